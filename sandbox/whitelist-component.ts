// Sandbox component: the liste blanche host, publishing a list signed by the sandbox ANS
// for the simulated operators (plus dgs.mssante.fr and interop-mssante.apicrypt.org).
import fs from 'node:fs';
import path from 'node:path';
import type { SandboxComponent } from './component.js';
import type { PkiManifest } from './pki.js';
import { sandboxSigner, signWhitelistXml } from './sign-whitelist.js';
import { buildWhitelistXml, EXTRA_SANDBOX_ENTRIES, operatorEntries } from './whitelist-data.js';
import { SandboxWhitelistServer } from './whitelist-server.js';

/** Where the sandbox writes the list it publishes, under its directory (other components read it). */
export const PUBLISHED_LIST = path.join('whitelist', 'listeblanchemssante.xml');

/** The sandbox list: the operators' domains and the extra entries, signed by the sandbox ANS. */
export function sandboxList(pki: PkiManifest): { entries: ReturnType<typeof operatorEntries>; signed: Buffer } {
  const entries = [...operatorEntries(pki.operators), ...EXTRA_SANDBOX_ENTRIES];
  return { entries, signed: Buffer.from(signWhitelistXml(buildWhitelistXml(entries), sandboxSigner(pki.dir)), 'utf8') };
}

export const whitelistComponent: SandboxComponent = {
  name: 'whitelist',
  async start(ctx) {
    const { entries, signed } = sandboxList(ctx.pki);
    const published = path.join(ctx.dir, PUBLISHED_LIST);
    fs.mkdirSync(path.dirname(published), { recursive: true });
    fs.writeFileSync(published, signed);
    const server = new SandboxWhitelistServer({
      host: ctx.host,
      certChainPem: fs.readFileSync(ctx.pki.https.cert, 'utf8') + fs.readFileSync(ctx.pki.intermediate.cert, 'utf8'),
      keyPem: fs.readFileSync(ctx.pki.https.key, 'utf8'),
      list: signed,
      log: ctx.log,
    });
    await server.start();
    return {
      endpoints: { whitelist: { url: server.url, control: server.controlUrl, published } },
      domains: [...new Set(entries.map((e) => e.domain))].sort(),
      stop: () => server.stop(),
    };
  },
};
