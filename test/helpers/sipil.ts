// The sandbox SIPIL on loopback for the statistics tests: the test PKI's HTTPS certificate,
// its trust store, and the sandbox liste blanche written under `dir` (SIPIL's DN check).
import fs from 'node:fs';
import path from 'node:path';
import { silentLogger } from '../../src/log.js';
import type { PkiManifest } from '../../sandbox/pki.js';
import { SandboxSipilServer } from '../../sandbox/sipil-server.js';
import { trustOf } from './pki.js';
import { signedList } from './whitelist.js';

export async function startSipil(pki: PkiManifest, dir: string, opts: { maxArchiveBytes?: number } = {}): Promise<SandboxSipilServer> {
  const list = path.join(dir, 'listeblanchemssante.xml');
  fs.writeFileSync(list, signedList(pki));
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
