// Sandbox component: Pro Santé Connect on loopback HTTPS (sandbox/psc/), with the
// sandbox HTTPS certificate of the test PKI. sandbox.json gives its issuer and the mint
// endpoint: POST {"idNat": "…", "ttlSeconds": N} → {"access_token": "…"}.
import fs from 'node:fs';
import type { SandboxComponent } from './component.js';
import { SandboxPsc } from './psc/sandbox-psc.js';

export const pscComponent: SandboxComponent = {
  name: 'psc',
  async start(ctx) {
    const psc = new SandboxPsc({
      host: ctx.host,
      tls: {
        cert: fs.readFileSync(ctx.pki.https.cert, 'utf8') + fs.readFileSync(ctx.pki.intermediate.cert, 'utf8'),
        key: fs.readFileSync(ctx.pki.https.key, 'utf8'),
      },
    });
    await psc.start();
    return {
      endpoints: {
        psc: { url: psc.issuer, issuer: psc.issuer, mint: psc.mintUrl, rotate: `${psc.issuer}/sandbox/rotate`, clientId: psc.clientId, ca: ctx.pki.root.cert },
      },
      stop: () => psc.stop(),
    };
  },
};
