// The titles of the tests of one source file, as the compliance matrix lists them. A title
// written as a template literal (`EX_PSU_5830 (${backend} store): …`) is rendered from what
// the file itself says of its placeholders: one title per value of an enclosing
// `for (const backend of ['redis', 'embedded'])` loop, the value of a `const X = <literal>`
// (numbers combined with + - * / too), and «expression» for what only runs can tell (an
// environment variable, a function's parameter). Reads the text the way Prettier lays it out
// (`make format-check`): a loop's body is the lines indented deeper than its `for`.

// The title literal, escapes included (`'a person\'s'`): a backslash escapes the next character.
const TEST_TITLE = /\b(?:test|it|describe|suite)(?:\.(?:skip|only|todo))?\(\s*(['"`])((?:\\.|(?!\1)[^\\])*)\1/g;
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
const LITERAL = /'((?:\\.|[^'\\])*)'|"((?:\\.|[^"\\])*)"|(-?\d[\d_]*(?:\.\d+)?)/y;
// `const NAME = 'text' | "text" | 12_000 | ['a', 'b'] (as const);`, a type annotation allowed.
const CONSTANT = /\bconst\s+([A-Za-z_$][\w$]*)\s*(?::[^=;]+)?=\s*('(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*"|-?\d[\d_]*(?:\.\d+)?|\[[^\]]*\](?:\s*as\s+const)?)\s*;/g;
const FOR_OF = /^(\s*)for \(const ([A-Za-z_$][\w$]*) of (.+)\)\s*\{?\s*$/;

type Value = string | number;

interface Loop {
  variable: string;
  /** The values it takes, or undefined when the file does not say. */
  values: Value[] | undefined;
  /** Lines (0-based) of its body. */
  first: number;
  last: number;
}

const unescape = (s: string): string => s.replace(/\\(.)/g, '$1');

/** `'a'`, `"b"`, `12_000` → the value; anything else → undefined. */
function literal(text: string): Value | undefined {
  LITERAL.lastIndex = 0;
  const m = LITERAL.exec(text.trim());
  if (!m || m[0].length !== text.trim().length) return undefined;
  if (m[3] !== undefined) return Number(m[3].replace(/_/g, ''));
  return unescape(m[1] ?? m[2] ?? '');
}

/** `['a', 'b'] as const` → its values; undefined unless every element is a literal. */
function arrayLiteral(text: string): Value[] | undefined {
  const m = /^\[([^\]]*)\](?:\s*as\s+const)?$/.exec(text.trim());
  if (!m) return undefined;
  const items = (m[1] ?? '').split(',').filter((s) => s.trim() !== '');
  const values = items.map(literal);
  return values.every((v) => v !== undefined) ? (values as Value[]) : undefined;
}

/** The file's constants bound once to a literal (a name bound twice is left out: which one?). */
function constantsOf(source: string): Map<string, Value | Value[]> {
  const found = new Map<string, Value | Value[] | undefined>();
  for (const m of source.matchAll(CONSTANT)) {
    const [, name = '', text = ''] = m;
    const value = text.startsWith('[') ? arrayLiteral(text) : literal(text);
    found.set(name, found.has(name) ? undefined : value);
  }
  return new Map([...found].filter((e): e is [string, Value | Value[]] => e[1] !== undefined));
}

const indent = (line: string): number => /^\s*/.exec(line)?.[0].length ?? 0;

function loopsOf(lines: readonly string[], constants: Map<string, Value | Value[]>): Loop[] {
  const loops: Loop[] = [];
  lines.forEach((line, i) => {
    const m = FOR_OF.exec(line);
    if (!m) return;
    const [, lead = '', variable = '', iterable = ''] = m;
    const named = IDENTIFIER.test(iterable.trim()) ? constants.get(iterable.trim()) : undefined;
    const values = Array.isArray(named) ? named : arrayLiteral(iterable);
    let last = i;
    while (last + 1 < lines.length && ((lines[last + 1] ?? '').trim() === '' || indent(lines[last + 1] ?? '') > lead.length)) last++;
    if (indent(lines[last + 1] ?? '') === lead.length && (lines[last + 1] ?? '').trimStart().startsWith('}')) last++;
    loops.push({ variable, values, first: i + 1, last });
  });
  return loops;
}

/** `RECIPIENTS / 1000` with RECIPIENTS a number constant → its value; undefined otherwise. */
function arithmetic(expression: string, constants: Map<string, Value | Value[]>): number | undefined {
  let known = true;
  const numeric = expression.replace(/[A-Za-z_$][\w$]*/g, (name) => {
    const v = constants.get(name);
    if (typeof v === 'number') return `(${v})`;
    known = false;
    return name;
  });
  if (!known || !/^[\d_.\s+\-*/()]+$/.test(numeric)) return undefined;
  // Digits, operators and parentheses only (checked above): nothing else can run.
  const value: unknown = new Function(`return (${numeric.replace(/_/g, '')});`)();
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** The titles a template literal title stands for, from what the file says at `line`. */
function expandTemplate(raw: string, line: number, loops: readonly Loop[], constants: Map<string, Value | Value[]>): string[] {
  const parts = raw.split(/\$\{([^{}]*)\}/); // even: text, odd: an expression
  // The loops whose variable the title names: innermost first, one binding per variable.
  const bound = new Map<string, Loop>();
  for (let i = 1; i < parts.length; i += 2) {
    const name = (parts[i] ?? '').trim();
    if (!IDENTIFIER.test(name) || bound.has(name)) continue;
    const loop = loops.filter((l) => l.variable === name && l.first <= line && line <= l.last).at(-1);
    if (loop?.values) bound.set(name, loop);
  }
  // Outer loops first: the titles come in the order the runs do.
  let combinations: Array<Map<string, Value>> = [new Map()];
  for (const [name, loop] of [...bound].sort((a, b) => a[1].first - b[1].first))
    combinations = combinations.flatMap((c) => (loop.values ?? []).map((v) => new Map([...c, [name, v]])));
  return combinations.map((c) =>
    parts
      .map((part, i) => {
        if (i % 2 === 0) return unescape(part);
        const expression = part.trim();
        const value = c.get(expression) ?? constants.get(expression) ?? arithmetic(expression, constants);
        return value !== undefined && !Array.isArray(value) ? String(value) : `«${expression}»`;
      })
      .join(''),
  );
}

/** The titles of the tests (and suites) of a file, in order, templates rendered. */
export function testTitles(source: string): string[] {
  const lines = source.split('\n');
  const constants = constantsOf(source);
  const loops = loopsOf(lines, constants);
  const titles: string[] = [];
  for (const t of source.matchAll(TEST_TITLE)) {
    const raw = t[2] ?? '';
    if (t[1] !== '`' || !raw.includes('${')) {
      titles.push(unescape(raw));
      continue;
    }
    const line = source.slice(0, t.index).split('\n').length - 1;
    titles.push(...expandTemplate(raw, line, loops, constants));
  }
  return titles;
}
