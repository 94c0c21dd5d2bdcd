// Sandbox component: the liste blanche host, publishing a list signed by the sandbox ANS
// for the simulated operators (plus dgs.mssante.fr and interop-mssante.apicrypt.org). It
// also keeps the ANS's own copy, the unsigned list it signed: what the sandbox's ANS peers
// (Annuaire, SIPIL) authorise callers by (whitelist-source.ts).
import fs from 'node:fs';
import path from 'node:path';
import type { SandboxComponent } from './component.js';
import type { PkiManifest } from './pki.js';
import { sandboxSigner, signWhitelistXml } from './sign-whitelist.js';
import { buildWhitelistXml, EXTRA_SANDBOX_ENTRIES, operatorEntries } from './whitelist-data.js';
import { SandboxWhitelistServer } from './whitelist-server.js';

/** Where the sandbox writes the list it publishes, under its directory (the self-check compares the client's copy to it). */
export const PUBLISHED_LIST = path.join('whitelist', 'listeblanchemssante.xml');

/** Where the sandbox writes the ANS's own list, unsigned, under its directory (the ANS peers read it). */
export const ANS_LIST = path.join('whitelist', 'ans-list.xml');

/** The sandbox list: the operators' domains and the extra entries, unsigned and signed by the sandbox ANS. */
export function sandboxList(pki: PkiManifest): { entries: ReturnType<typeof operatorEntries>; unsigned: Buffer; signed: Buffer } {
  const entries = [...operatorEntries(pki.operators), ...EXTRA_SANDBOX_ENTRIES];
  const xml = buildWhitelistXml(entries);
  return { entries, unsigned: Buffer.from(xml, 'utf8'), signed: Buffer.from(signWhitelistXml(xml, sandboxSigner(pki.dir)), 'utf8') };
}

export const whitelistComponent: SandboxComponent = {
  name: 'whitelist',
  async start(ctx) {
    const { entries, unsigned, signed } = sandboxList(ctx.pki);
    const published = path.join(ctx.dir, PUBLISHED_LIST);
    fs.mkdirSync(path.dirname(published), { recursive: true });
    fs.writeFileSync(published, signed);
    fs.writeFileSync(path.join(ctx.dir, ANS_LIST), unsigned);
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
