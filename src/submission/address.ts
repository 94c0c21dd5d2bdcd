// Addresses as the rules compare them: the envelope's (Postfix hands them over unquoted,
// without angle brackets) and the mailboxes named in a From: header (RFC 5322 §3.4: display
// names, quoted strings, comments, groups, folding).

export interface SplitAddress {
  local: string;
  /** Lowercase; '' when the address has no `@`. */
  domain: string;
}

export function splitAddress(address: string): SplitAddress {
  const at = address.lastIndexOf('@');
  if (at < 0) return { local: address, domain: '' };
  return { local: address.slice(0, at), domain: address.slice(at + 1).toLowerCase() };
}

export function domainOf(address: string): string {
  return splitAddress(address).domain;
}

/** Comments `( … )` (nested, with quoted-pairs) replaced by a space; quoted strings kept. */
function withoutComments(text: string): string {
  let out = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '\\' && (quoted || depth > 0)) {
      if (depth === 0) out += c + (text[i + 1] ?? '');
      i++;
      continue;
    }
    if (depth > 0) {
      if (c === '(') depth++;
      else if (c === ')') depth--;
      if (depth === 0) out += ' ';
      continue;
    }
    if (c === '"') quoted = !quoted;
    else if (c === '(' && !quoted) {
      depth = 1;
      continue;
    }
    out += c;
  }
  return out;
}

/** Split at `sep` characters outside quoted strings and angle brackets. */
function splitTopLevel(text: string, seps: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let angle = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '\\' && quoted) {
      i++;
      continue;
    }
    if (c === '"') quoted = !quoted;
    else if (!quoted && c === '<') angle++;
    else if (!quoted && c === '>') angle = Math.max(0, angle - 1);
    else if (!quoted && angle === 0 && seps.includes(c)) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** Position of the first '<' outside a quoted string, or -1. */
function angleStart(item: string): number {
  let quoted = false;
  for (let i = 0; i < item.length; i++) {
    const c = item[i];
    if (c === '\\' && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (c === '<' && !quoted) return i;
  }
  return -1;
}

function mailboxOf(item: string): string | undefined {
  // `Name <addr>`: between the first '<' outside quotes and the next '>'.
  const open = angleStart(item);
  let spec = item;
  if (open >= 0) {
    const close = item.indexOf('>', open);
    spec = item.slice(open + 1, close < 0 ? undefined : close);
  }
  // An obsolete source route (`<@a,@b:user@c>`) is not part of the address.
  spec = spec.replace(/^\s*(?:@[^:]*:)/, '').trim();
  return spec.includes('@') ? spec : undefined;
}

/**
 * The mailboxes a From: (or Sender:) value names, lowercase. A group (`team: a@b, c@d;`)
 * contributes its members. Items without an address are left out; callers treat "nothing
 * found" as an address they cannot check.
 */
export function headerMailboxes(value: string): string[] {
  const text = withoutComments(value.replace(/\r?\n(?=[ \t])/g, ''));
  const out: string[] = [];
  for (const raw of splitTopLevel(text, ',;')) {
    // A group's display name ends at the first top-level ':' of its first member.
    const parts = splitTopLevel(raw, ':');
    const item = parts.length > 1 && !raw.trimStart().startsWith('<') ? parts.slice(1).join(':') : raw;
    const box = mailboxOf(item);
    if (box) out.push(box.toLowerCase());
  }
  return out;
}
