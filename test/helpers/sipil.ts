// The sandbox SIPIL on loopback for the statistics tests: the test PKI's HTTPS certificate,
// its trust store, and the ANS's own liste blanche (unsigned) written under `dir`, at
// sipilListFile(dir) (SIPIL's DN check; a test may replace it).
import fs from 'node:fs';
import path from 'node:path';
import { silentLogger } from '../../src/log.js';
import type { PkiManifest } from '../../sandbox/pki.js';
import { SandboxSipilServer } from '../../sandbox/sipil-server.js';
import { trustOf } from './pki.js';
import { buildWhitelistXml } from '../../sandbox/whitelist-data.js';
import { sandboxEntries } from './whitelist.js';

/** The ANS's list the SIPIL started by startSipil(pki, dir) reads. */
export const sipilListFile = (dir: string): string => path.join(dir, 'ans-list.xml');

export async function startSipil(pki: PkiManifest, dir: string, opts: { maxArchiveBytes?: number } = {}): Promise<SandboxSipilServer> {
  const list = sipilListFile(dir);
  fs.writeFileSync(list, buildWhitelistXml(sandboxEntries(pki)));
  const server = new SandboxSipilServer({
    host: '127.0.0.1',
    certChainPem: fs.readFileSync(pki.https.cert, 'utf8') + fs.readFileSync(pki.intermediate.cert, 'utf8'),
    keyPem: fs.readFileSync(pki.https.key, 'utf8'),
    trust: trustOf(pki),
    whitelistFile: list,
    log: silentLogger,
    ...(opts.maxArchiveBytes !== undefined ? { maxArchiveBytes: opts.maxArchiveBytes } : {}),
  });
  await server.start();
  return server;
}
