// One verification of a liste blanche in a process of its own, so that GNU time reports the
// peak RSS of exactly that (bench/whitelist.ts, the 50,000-domain row of issue 20). The
// bounds are raised to the file's size: a list of 50,000 domains is over the shipped
// whitelist.maxBytes/limits, which refuse it (they are sized from the published list).
//   node whitelist-verify-child.js FILE TRUSTDIR
import fs from 'node:fs';
import { TrustStore } from '../../src/pki/truststore.js';
import { DEFAULT_ANS_SIGNER_SUBJECT } from '../../src/whitelist/defaults.js';
import { verifyWhitelist } from '../../src/whitelist/verify.js';

const [file, trustDir] = process.argv.slice(2);
if (!file || !trustDir) throw new Error('usage: whitelist-verify-child.js FILE TRUSTDIR');
const bytes = fs.readFileSync(file);
const v = verifyWhitelist(bytes, {
  trust: TrustStore.fromDir(trustDir),
  signer: DEFAULT_ANS_SIGNER_SUBJECT,
  maxBytes: bytes.length,
  limits: { maxDepth: 32, maxNodes: 10_000_000 },
});
process.stdout.write(`${v.index.domainCount}\n`);
