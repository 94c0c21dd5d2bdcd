// Sandbox component: the Annuaire Santé's SOAP services (TM1.1.1P) on loopback, authorising
// callers against the ANS's own liste blanche (the list the sandbox host signs and publishes),
// plus the registry of operator A (D/registry-a.yaml) for its configuration to publish.
import fs from 'node:fs';
import path from 'node:path';
import { RevocationStore } from '../../src/pki/crl.js';
import { TrustStore } from '../../src/pki/truststore.js';
import type { SandboxComponent } from '../component.js';
import { ANS_LIST } from '../whitelist-component.js';
import { AnsWhitelistSource } from '../whitelist-source.js';
import { Referential } from './referential.js';
import { SANDBOX_REGISTRY_A } from './registry-a.js';
import { SandboxAnnuaireServer } from './server.js';

export const annuaireComponent: SandboxComponent = {
  name: 'annuaire',
  async start(ctx) {
    const trust = TrustStore.fromDir(ctx.pki.trustDir);
    const revocation = await RevocationStore.fromDir(ctx.pki.crlDir, trust);
    // The ANS's own list, which the whitelist component (it starts first) signs and publishes.
    const list = new AnsWhitelistSource(path.join(ctx.dir, ANS_LIST));
    list.list(); // it must be there and read from the start
    const registries: Record<string, string> = {};
    const a = ctx.operators.find((o) => o.id === 'A');
    if (a) {
      registries.A = path.join(ctx.dir, 'registry-a.yaml');
      // An edited registry (corrections applied by a report) is kept across restarts.
      if (!fs.existsSync(registries.A)) fs.writeFileSync(registries.A, SANDBOX_REGISTRY_A, { mode: 0o644 });
    }
    const server = new SandboxAnnuaireServer({
      host: ctx.host,
      certChainPem: fs.readFileSync(ctx.pki.https.cert, 'utf8') + fs.readFileSync(ctx.pki.intermediate.cert, 'utf8'),
      keyPem: fs.readFileSync(ctx.pki.https.key, 'utf8'),
      trust,
      revocation,
      whitelist: () => list.current(),
      referential: new Referential(),
      log: ctx.log,
    });
    await server.start();
    return {
      endpoints: { annuaire: { url: server.feedUrl, feedUrl: server.feedUrl, reportUrl: server.reportUrl, control: server.controlUrl, registries } },
      stop: () => server.stop(),
    };
  },
};
