// What the product's `sandbox` commands reach of the sandbox (src/cli/sandbox-door.ts loads
// this module by URL, the only way the product reaches the sandbox): the contract is the
// product's, checked here at build time.
import type { SandboxDoor } from '../src/cli/sandbox-door.js';
import { generateTestPki } from './pki.js';
import { startSandbox } from './run.js';
import { runSelfCheck } from './selfcheck.js';
import { sandboxSigner, signWhitelistXml } from './sign-whitelist.js';

export const door = {
  startSandbox,
  generateTestPki: (dir: string) => generateTestPki(dir),
  signWhitelist: (xml: string, pkiDir: string) => signWhitelistXml(xml, sandboxSigner(pkiDir)),
  runSelfCheck,
} satisfies SandboxDoor;
