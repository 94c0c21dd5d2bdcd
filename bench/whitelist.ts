// Liste blanche figures (`make bench`): verify + index a signed list of 10,000 domains
// (target < 300 ms) and 1,000,000 lookups (target < 2 µs each). Prints figures; asserts nothing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TrustStore } from '../src/pki/truststore.js';
import { generateTestPki } from '../src/sandbox/pki.js';
import { sandboxSigner, signWhitelistXml } from '../src/sandbox/sign-whitelist.js';
import { buildWhitelistXml, type ListEntry } from '../src/sandbox/whitelist-data.js';
import { DEFAULT_ANS_SIGNER_SUBJECT } from '../src/whitelist/config.js';
import { verifyWhitelist } from '../src/whitelist/verify.js';
import { decodeListBytes, parseXml } from '../src/whitelist/xml.js';

const DOMAINS = 10_000;
const OPERATORS = 300;
const LOOKUPS = 1_000_000;

function ms(from: bigint): number {
  return Number(process.hrtime.bigint() - from) / 1e6;
}
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mss-bench-'));
try {
  const pki = await generateTestPki(path.join(dir, 'pki'), { operators: [], authCli: [] });
  const trust = TrustStore.fromDir(pki.trustDir);
  const dns = Array.from({ length: OPERATORS }, (_, i) => `CN=smtp-${i}.operateur-${i}.fr,OU=3${String(i).padStart(14, '0')},O=OPERATEUR ${i},ST=Bouches-du-Rhône (13),C=FR`);
  const entries: ListEntry[] = [];
  for (let i = 0; i < DOMAINS; i++) {
    entries.push({ domain: `domaine-${i}.mssante.fr`, dn: dns[i % OPERATORS] as string, description: `Domaine de messagerie MSSanté numéro ${i}` });
    // One domain in ten also has a second connector (EX_LBL_5010 shape of the real list).
    if (i % 10 === 0) entries.push({ domain: `domaine-${i}.mssante.fr`, dn: dns[(i + 1) % OPERATORS] as string, description: 'second connector' });
  }
  const bytes = Buffer.from(signWhitelistXml(buildWhitelistXml(entries), sandboxSigner(pki.dir)), 'utf8');
  console.log(`list: ${DOMAINS} domains, ${entries.length} Domaine entries, ${OPERATORS} DNs, ${(bytes.length / 1e6).toFixed(1)} MB`);

  const runs: number[] = [];
  let index = verifyWhitelist(bytes, { trust, signer: DEFAULT_ANS_SIGNER_SUBJECT, maxBytes: 64e6 }).index; // warm-up
  for (let i = 0; i < 5; i++) {
    gc();
    const t = process.hrtime.bigint();
    index = verifyWhitelist(bytes, { trust, signer: DEFAULT_ANS_SIGNER_SUBJECT, maxBytes: 64e6 }).index;
    runs.push(ms(t));
  }
  runs.sort((a, b) => a - b);
  gc();
  const tp = process.hrtime.bigint();
  parseXml(decodeListBytes(bytes, 'bench', 64e6), 'bench');
  const parseMs = ms(tp);
  console.log(`verify + index: min ${runs[0]?.toFixed(0)} ms, median ${runs[2]?.toFixed(0)} ms (target < 300 ms); of which XML parsing (xmldom) ${parseMs.toFixed(0)} ms`);
  console.log(`index: ${index.domainCount} domains, ${index.dnCount} DNs`);

  // Lookups as the gates and the submission checks make them, on pre-built keys.
  const domainKeys = Array.from({ length: 4096 }, (_, i) => (i % 8 === 0 ? `inconnu-${i}.mssante.fr` : `domaine-${(i * 7919) % DOMAINS}.mssante.fr`));
  const dnKeys = Array.from({ length: 4096 }, (_, i) => dns[(i * 31) % OPERATORS] as string);
  let hits = 0;
  const bench = (name: string, fn: (i: number) => boolean): void => {
    for (let i = 0; i < 100_000; i++) fn(i); // warm-up
    const t = process.hrtime.bigint();
    for (let i = 0; i < LOOKUPS; i++) if (fn(i)) hits++;
    const nsEach = (ms(t) * 1e6) / LOOKUPS;
    console.log(`${name}: ${LOOKUPS.toLocaleString('en')} lookups, ${nsEach.toFixed(0)} ns each (target < 2000 ns)`);
  };
  bench('domain → DNs  ', (i) => index.dnsOf(domainKeys[i & 4095] as string).length > 0);
  bench('DN → domains  ', (i) => index.domainsOf(dnKeys[i & 4095] as string).length > 0);
  bench('DN ↔ domain   ', (i) => index.allows(dnKeys[i & 4095] as string, domainKeys[i & 4095] as string));
  console.log(`(${hits} hits)`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
