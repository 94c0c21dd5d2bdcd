// The liste blanche as the sandbox's ANS peers (Annuaire, SIPIL) see it: the file the
// sandbox's liste blanche host publishes, verified (ANS signature, sandbox IGC-Santé) the way
// any copy is, read again whenever the file changes; a copy that does not verify leaves the
// last valid one in force, as any reader of the list does. Never verified: callers are
// refused (SIPIL: code 10).
import fs from 'node:fs';
import type { TrustStore } from '../src/pki/truststore.js';
import { DEFAULT_ANS_SIGNER_SUBJECT } from '../src/whitelist/config.js';
import { verifyWhitelist } from '../src/whitelist/verify.js';
import type { WhitelistIndex } from '../src/whitelist/whitelist-index.js';

export class PublishedWhitelist {
  private cache: { key: string; index: WhitelistIndex } | undefined;

  constructor(
    private readonly file: string,
    private readonly trust: TrustStore,
  ) {}

  /** The verified index; throws when the file cannot be read or does not verify. */
  index(): WhitelistIndex {
    const st = fs.statSync(this.file);
    const key = `${st.ino}:${st.size}:${st.mtimeMs}`;
    if (this.cache?.key !== key) {
      try {
        const v = verifyWhitelist(fs.readFileSync(this.file), { trust: this.trust, signer: DEFAULT_ANS_SIGNER_SUBJECT, maxBytes: 64 * 1024 * 1024 });
        this.cache = { key, index: v.index };
      } catch (err) {
        if (!this.cache) throw err;
        this.cache = { key, index: this.cache.index };
      }
    }
    return this.cache.index;
  }

  /** The verified index, or undefined when it cannot be had. */
  current(): WhitelistIndex | undefined {
    try {
      return this.index();
    } catch {
      return undefined;
    }
  }
}
