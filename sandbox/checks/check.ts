// A self-check step: one behaviour of the sandbox checked end to end, with a verdict and a
// sentence a person can read. Steps run in order and may leave facts for later ones.
import type { Config } from '../../src/config/schema.js';
import type { Logger } from '../../src/log.js';
import type { SandboxManifest } from '../manifest.js';
import type { PkiManifest } from '../pki.js';

export interface CheckContext {
  sandbox: SandboxManifest;
  pki: PkiManifest;
  /** Operator A's configuration (sandbox D/config.yaml). */
  config: Config;
  log: Logger;
  /** Facts shared between steps (e.g. the bytes of the last valid list). */
  facts: Map<string, unknown>;
}

export interface CheckOutcome {
  ok: boolean;
  detail: string;
  /** The step could not run here (e.g. Postfix or Dovecot not installed): reported, not failed. */
  skipped?: boolean;
}

export interface SelfCheckStep {
  readonly name: string;
  run(ctx: CheckContext): Promise<CheckOutcome>;
}

export const pass = (detail: string): CheckOutcome => ({ ok: true, detail });
export const fail = (detail: string): CheckOutcome => ({ ok: false, detail });
export const skip = (detail: string): CheckOutcome => ({ ok: true, detail, skipped: true });
