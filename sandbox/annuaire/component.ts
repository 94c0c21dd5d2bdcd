// Sandbox component: the Annuaire Santé's SOAP services (TM1.1.1P) on loopback, authorising
// callers against the list the sandbox liste blanche host publishes, plus the registry of
// operator A (D/registry-a.yaml) for its configuration to publish.
import fs from 'node:fs';
import path from 'node:path';
import { RevocationStore } from '../../src/pki/crl.js';
import { TrustStore } from '../../src/pki/truststore.js';
import type { SandboxComponent } from '../component.js';
import { PublishedWhitelist } from '../published-whitelist.js';
import { PUBLISHED_LIST } from '../whitelist-component.js';
import { Referential } from './referential.js';
import { SANDBOX_REGISTRY_A } from './registry-a.js';
import { SandboxAnnuaireServer } from './server.js';

export const annuaireComponent: SandboxComponent = {
  name: 'annuaire',
  async start(ctx) {
    const trust = TrustStore.fromDir(ctx.pki.trustDir);
    const revocation = await RevocationStore.fromDir(ctx.pki.crlDir, trust);
    // The list the whitelist component published (it starts first), verified like any copy.
    const list = new PublishedWhitelist(path.join(ctx.dir, PUBLISHED_LIST), trust);
    list.index(); // it must be there and verify from the start
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
