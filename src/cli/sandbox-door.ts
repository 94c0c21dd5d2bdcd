// The one door from the product to the sandbox (issue #19). The sandbox (sandbox/, the ANS
// side simulated on loopback) is built and shipped beside the product (dist/sandbox/) but is
// a project of its own: src/tsconfig.json cannot import it (TS6307) and the lint zone
// `production-not-simulator` (tools/lint/boundaries.json) refuses it. The `sandbox` command
// group loads it here, by URL, only when it runs; sandbox/door.ts implements this contract
// and the sandbox's build checks it does (`satisfies SandboxDoor`).
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MssError } from '../errors.js';
import type { Logger } from '../log.js';

/** What the `sandbox` commands use of the sandbox, and only that. */
export interface SandboxDoor {
  /** `mss-sidecar sandbox`: every ANS peer on loopback until stopped. */
  startSandbox(opts: { dir: string; log: Logger; freshPki: boolean }): Promise<{
    manifest: { dir: string; endpoints: unknown };
    stop(): Promise<void>;
  }>;
  /** `sandbox pki`: a test PKI shaped like IGC-Santé in `dir`. */
  generateTestPki(dir: string): Promise<{ dir: string; files: readonly unknown[]; trustDir: string; ansSigner: { cert: string } }>;
  /** `sandbox sign-whitelist`: the list signed with the ANS signer of a `sandbox pki` directory. */
  signWhitelist(xml: string, pkiDir: string): string;
  /** `sandbox selfcheck` (`make sandbox`): the sandbox checked end to end. */
  runSelfCheck(opts: { dir?: string; keep: boolean }): Promise<{ failed: number }>;
}

/** dist/src/cli/sandbox-door.js → dist/sandbox/door.js (the same layout in the repository and the package). */
export const SANDBOX_ENTRY = new URL('../../sandbox/door.js', import.meta.url);

export async function openSandbox(entry: URL = SANDBOX_ENTRY): Promise<SandboxDoor> {
  if (!fs.existsSync(fileURLToPath(entry))) {
    throw new MssError('SANDBOX_MISSING', `the sandbox is not installed: no ${fileURLToPath(entry)} (run \`make build\`)`, { file: fileURLToPath(entry) });
  }
  const module = (await import(entry.href)) as { door?: SandboxDoor };
  if (!module.door) throw new MssError('SANDBOX_MISSING', `${fileURLToPath(entry)} exports no \`door\``, { file: fileURLToPath(entry) });
  return module.door;
}
