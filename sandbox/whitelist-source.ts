// The liste blanche as the sandbox's ANS peers (Annuaire, SIPIL) know it: the ANS's own list,
// the unsigned file the liste blanche host signs and publishes (whitelist-component.ts), read
// with the sandbox's reader (whitelist-reader.ts) and read again whenever the file changes.
// The peers do not download nor verify the signed copy: the ANS knows its list, and checking
// the signature is the operators' duty (EX_2.2_5040), which is what the peers test in our
// client. A file that cannot be read or that the reader refuses leaves the peers without a
// list (SIPIL: code 10, « liste blanche indisponible », Tableau 60): there is no older copy
// to fall back on, as the ANS has no other source than its own.
import fs from 'node:fs';
import { isMssError, MssError } from '../src/errors.js';
import { MAX_LIST_BYTES, readAnsList, type AnsList } from './whitelist-reader.js';

export class AnsWhitelistSource {
  private cache: { key: string; list?: AnsList; error?: unknown } | undefined;

  constructor(private readonly file: string) {}

  /** The list; throws (MssError SANDBOX_LIST_*) when the file cannot be read or is refused. */
  list(): AnsList {
    let key: string;
    try {
      const st = fs.statSync(this.file);
      if (st.size > MAX_LIST_BYTES) throw new Error(`${st.size} bytes, more than ${MAX_LIST_BYTES}`);
      key = `${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch (err) {
      throw new MssError('SANDBOX_LIST_UNREADABLE', `${this.file}: ${(err as Error).message}`, { source: this.file }, { cause: err });
    }
    if (this.cache?.key !== key) {
      try {
        this.cache = { key, list: readAnsList(fs.readFileSync(this.file), this.file) };
      } catch (err) {
        const error = isMssError(err)
          ? err
          : new MssError('SANDBOX_LIST_UNREADABLE', `${this.file}: ${(err as Error).message}`, { source: this.file }, { cause: err });
        this.cache = { key, error };
      }
    }
    if (this.cache.list) return this.cache.list;
    throw this.cache.error;
  }

  /** The list, or undefined when there is none to be had. */
  current(): AnsList | undefined {
    try {
      return this.list();
    } catch {
      return undefined;
    }
  }
}
