// Reading a Postfix configuration the way Postfix itself reads it: parameters with
// `postconf -x` (expanded), master.cf services with `postconf -M`, lookup tables with
// `postmap -q -` (every key of a table in one process, whatever the table type: hash, lmdb,
// texthash, inline, regexp, pcre, ldap, proxy:…). Nothing here changes the configuration.
import { spawnSync } from 'node:child_process';
import { MssError } from '../errors.js';

/** Table types whose keys are patterns: Postfix looks them up with the full address only. */
const PATTERN_TYPES = new Set(['regexp', 'pcre', 'cidr']);

export class PostfixConfig {
  /** `dir`: the configuration directory (default: Postfix's own, usually /etc/postfix). */
  constructor(readonly dir?: string) {}

  private run(command: string, args: string[], input?: string): string {
    const r = spawnSync(command, [...(this.dir ? ['-c', this.dir] : []), ...args], { encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024, timeout: 60_000 });
    if (r.error) throw new MssError('POSTFIX_UNAVAILABLE', `cannot run ${command}: ${r.error.message} (is Postfix installed?)`, { command });
    // postmap -q exits 1 when no key was found.
    if ((r.status ?? 1) > 1 || (r.status === 1 && command !== 'postmap') || /fatal:/.test(r.stderr)) {
      throw new MssError(
        'POSTFIX_CONFIG_UNREADABLE',
        `${command} ${args.join(' ')}${this.dir ? ` (configuration ${this.dir})` : ''} failed: ${r.stderr.trim().split('\n').slice(-2).join(' ')}`,
        { command },
      );
    }
    return r.stdout;
  }

  /** The expanded values of main.cf parameters (defaults included). */
  params(names: readonly string[]): Record<string, string> {
    const out: Record<string, string> = {};
    for (const line of this.run('postconf', ['-x', ...names]).split('\n')) {
      const eq = line.indexOf(' = ');
      if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 3).trim();
      else if (line.endsWith(' =')) out[line.slice(0, -2)] = '';
    }
    return out;
  }

  /** The master.cf entry of `service` (`name/type`) as `postconf -M` prints it, or undefined. */
  service(service: string): string[] | undefined {
    const line = this.run('postconf', ['-M', service]).trim();
    return line ? line.split(/\s+/) : undefined;
  }

  /** Each key found in `table`, with its value (`postmap -q -`). */
  lookup(table: string, keys: readonly string[]): Map<string, string> {
    const found = new Map<string, string>();
    if (keys.length === 0) return found;
    for (const line of this.run('postmap', ['-q', '-', table], `${keys.join('\n')}\n`).split('\n')) {
      const tab = line.indexOf('\t');
      if (tab > 0) found.set(line.slice(0, tab), line.slice(tab + 1).trim());
    }
    return found;
  }
}

/** A parameter's list: items separated by commas or spaces, `{…}` kept whole (inline: tables). */
export function listItems(value: string): string[] {
  const items: string[] = [];
  let current = '';
  let depth = 0;
  for (const c of value) {
    if (c === '{') depth++;
    if (c === '}') depth = Math.max(0, depth - 1);
    if (depth === 0 && (c === ',' || /\s/.test(c))) {
      if (current) items.push(current);
      current = '';
    } else current += c;
  }
  if (current) items.push(current);
  return items;
}

/** A lookup table (`type:name`), as opposed to a literal domain or address. */
export function isTable(item: string): boolean {
  return /^[a-z][a-z0-9_]*:/.test(item) && !item.startsWith('[');
}

/** Whether Postfix looks a table up with the full address only (regexp, pcre, cidr; also behind proxy:). */
export function isPatternTable(table: string): boolean {
  const type = table.replace(/^proxy:/, '').split(':')[0] ?? '';
  return PATTERN_TYPES.has(type);
}
