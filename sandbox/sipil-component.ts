// Sandbox component: the SIPIL statistics web services (§6.9.3.2) on loopback HTTPS, with
// access checked against the ANS's own liste blanche (the list the whitelist component signs
// and publishes).
import fs from 'node:fs';
import path from 'node:path';
import { TrustStore } from '../src/pki/truststore.js';
import type { SandboxComponent } from './component.js';
import { ANS_LIST } from './whitelist-component.js';
import { SandboxSipilServer } from './sipil-server.js';

export const sipilComponent: SandboxComponent = {
  name: 'sipil',
  async start(ctx) {
    const server = new SandboxSipilServer({
      host: ctx.host,
      certChainPem: fs.readFileSync(ctx.pki.https.cert, 'utf8') + fs.readFileSync(ctx.pki.intermediate.cert, 'utf8'),
      keyPem: fs.readFileSync(ctx.pki.https.key, 'utf8'),
      trust: TrustStore.fromDir(ctx.pki.trustDir),
      whitelistFile: path.join(ctx.dir, ANS_LIST),
      log: ctx.log,
    });
    await server.start();
    return {
      endpoints: {
        sipil: { url: server.baseUrl, postFile: `${server.baseUrl}/postFile`, getReport: `${server.baseUrl}/getReport`, control: server.controlUrl },
      },
      stop: () => server.stop(),
    };
  },
};
