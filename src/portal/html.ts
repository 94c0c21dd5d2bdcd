// Server-rendered HTML without a template engine: a tagged template whose interpolations
// are escaped (escape-html) unless they are themselves Html, so that a value from the
// registry, a form or a trace can never become markup.
import escapeHtml from 'escape-html';

export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export type Part = Html | string | number | boolean | null | undefined | readonly Part[];

function render(value: Part): string {
  if (value === undefined || value === null || value === false || value === true) return '';
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

/** Text already escaped by us (a catalogue entry with markup); never a value from outside. */
export function trusted(text: string): Html {
  return new Html(text);
}
