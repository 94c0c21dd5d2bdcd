// Bounded resources for any input up to whitelist.maxBytes: nesting depth and node count are
// refused while parsing (WL_TOO_COMPLEX), a valid list with large comments verifies, and the
// peak RSS of a verification stays under 300 MB (measured in a child process per input).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { isMssError } from '../../src/errors.js';
import type { TrustStore } from '../../src/pki/truststore.js';
import type { PkiManifest } from '../../sandbox/pki.js';
import { buildWhitelistXml } from '../../sandbox/whitelist-data.js';
import { DEFAULT_ANS_SIGNER_SUBJECT } from '../../src/whitelist/config.js';
import { DEFAULT_MAX_BYTES, DEFAULT_MAX_NODES } from '../../src/whitelist/defaults.js';
import { verifyWhitelist, type VerifyOptions } from '../../src/whitelist/verify.js';
import { LIST_NS } from '../../src/whitelist/xml.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { testPki, trustOf } from '../helpers/pki.js';
import { tmpDir } from '../helpers/tmp.js';
import { sandboxEntries, signedList } from '../helpers/whitelist.js';

let pki: PkiManifest;
let trust: TrustStore;
let good: string;
before(async () => {
  pki = await testPki();
  trust = trustOf(pki);
  good = signedList(pki);
});

function verify(xml: string, opts: Partial<VerifyOptions> = {}) {
  return verifyWhitelist(Buffer.from(xml, 'utf8'), { trust, signer: DEFAULT_ANS_SIGNER_SUBJECT, maxBytes: DEFAULT_MAX_BYTES, source: 'list.xml', ...opts });
}

const HEAD = `<?xml version="1.0" encoding="UTF-8"?><ListeBlancheMSSante xmlns="${LIST_NS}"><DateDeGeneration>2025-03-13T14:54:10Z</DateDeGeneration><ListeDomaines>`;
const TAIL = '</ListeDomaines></ListeBlancheMSSante>';

test('100,000-deep nesting is refused while parsing (WL_TOO_COMPLEX), quickly and without exhausting the stack', () => {
  const deep = `${HEAD}${'<a>'.repeat(100_000)}${'</a>'.repeat(100_000)}${TAIL}`;
  const t = Date.now();
  assert.throws(
    () => verify(deep),
    (e: unknown) => isMssError(e, 'WL_TOO_COMPLEX') && /nested more than 32 deep \(whitelist\.limits\.maxDepth\)/.test(e.message),
  );
  assert.ok(Date.now() - t < 5_000, `${Date.now() - t} ms`);
  // Within the depth limit, nesting is fine (the Signature is 6 levels deep).
  assert.ok(verify(good));
  assert.throws(
    () => verify(good, { limits: { maxDepth: 5, maxNodes: DEFAULT_MAX_NODES } }),
    (e: unknown) => isMssError(e, 'WL_TOO_COMPLEX'),
  );
});

test('more elements and attributes than whitelist.limits.maxNodes are refused (WL_TOO_COMPLEX), attributes before they are collected', () => {
  const limits = { maxDepth: 32, maxNodes: 1_000 };
  assert.ok(verify(good, { limits }), 'the sandbox list is far below');
  assert.throws(
    () => verify(`${HEAD}${'<a/>'.repeat(1_001)}${TAIL}`, { limits }),
    (e: unknown) => isMssError(e, 'WL_TOO_COMPLEX') && /more than 1000 elements and attributes/.test(e.message),
  );
  const attributes = Array.from({ length: 1_001 }, (_, i) => ` a${i}="x"`).join('');
  assert.throws(
    () => verify(`${HEAD}<a${attributes}/>${TAIL}`, { limits }),
    (e: unknown) => isMssError(e, 'WL_TOO_COMPLEX'),
  );
});

test('a correctly signed list with an 8 MiB comment verifies (comments are not signed, and take no room in the tree)', () => {
  const commented = good.replace('<ListeDomaines>', `<ListeDomaines><!--${'x'.repeat(8 * 1024 * 1024)}-->`);
  assert.ok(Buffer.byteLength(commented) > 8 * 1024 * 1024);
  assert.equal(verify(commented).index.domainCount, 6);
});

/** Distinct attributes (a0="x" a1="x" …) filling about `bytes`. */
function manyAttributes(bytes: number): string {
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes - 16; i++) {
    const a = ` a${i}="x"`;
    parts.push(a);
    size += a.length;
  }
  return parts.join('');
}

/** Peak RSS (MB) of a child process that verifies `file` with the defaults, and its outcome. */
function peakRss(file: string): { mb: number; outcome: string } {
  const dist = (p: string) => pathToFileURL(path.join(REPO_ROOT, 'dist', 'src', p)).href;
  const script = `
    import fs from 'node:fs';
    const { verifyWhitelist } = await import(${JSON.stringify(dist('whitelist/verify.js'))});
    const { TrustStore } = await import(${JSON.stringify(dist('pki/truststore.js'))});
    const { DEFAULT_ANS_SIGNER_SUBJECT, DEFAULT_MAX_BYTES } = await import(${JSON.stringify(dist('whitelist/defaults.js'))});
    let outcome = 'verified';
    try {
      verifyWhitelist(fs.readFileSync(process.argv[1]), { trust: TrustStore.fromDir(process.argv[2]), signer: DEFAULT_ANS_SIGNER_SUBJECT, maxBytes: DEFAULT_MAX_BYTES });
    } catch (e) { outcome = e.code ?? String(e); }
    process.stdout.write(JSON.stringify({ kb: process.resourceUsage().maxRSS, outcome }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, file, pki.trustDir], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const { kb, outcome } = JSON.parse(r.stdout) as { kb: number; outcome: string };
  return { mb: kb / 1024, outcome };
}

test('the peak RSS of a verification stays under 300 MB for any input up to maxBytes (16 MiB)', () => {
  const dir = tmpDir();
  const fill = (unit: string, room: number): string => unit.repeat(Math.floor(room / Buffer.byteLength(unit)));
  const room = DEFAULT_MAX_BYTES - Buffer.byteLength(HEAD + TAIL) - 64;
  // One entry shaped like the list's, repeated up to the node bound: the most tree a file may hold.
  const entry = (i: number) =>
    `<Domaine><Nom>d${i}.mssante.fr</Nom><Description>${'é'.repeat(120)}</Description><DNCertificatOperateur>CN=smtp-${i}.exemple.fr,OU=1130099991,O=CENTRE HOSPITALIER,ST=Bouches-du-Rhône (13),C=FR</DNCertificatOperateur><ResponsableContact>r@e.fr</ResponsableContact><SupportContact>s@e.fr</SupportContact><DateMAJ>2025-01-27T15:49:34Z</DateMAJ></Domaine>`;
  const entries = Array.from({ length: Math.floor((DEFAULT_MAX_NODES - 40) / 7) }, (_, i) => entry(i)).join('');
  const signedBig = signedList(pki, { xml: buildWhitelistXml(sandboxEntries(pki)) });
  const signature = /<Signature[\s\S]*<\/Signature>/.exec(signedBig)?.[0] ?? '';
  const inputs: Record<string, string> = {
    'signed list + 16 MiB comment (valid)': signedBig.replace(
      '<ListeDomaines>',
      `<ListeDomaines><!--${fill('x', DEFAULT_MAX_BYTES - Buffer.byteLength(signedBig) - 64)}-->`,
    ),
    // With a real Signature (form and signer pass): parse, canonicalization and digest all run.
    'entries up to the node bound, 16 MiB (digest fails last)': `${HEAD}${entries}${fill(' ', room - Buffer.byteLength(entries) - Buffer.byteLength(signature))}</ListeDomaines>${signature}</ListeBlancheMSSante>`,
    '16 MiB of empty elements': `${HEAD}${fill('<a/>', room)}${TAIL}`,
    '16 MiB of attributes on one element': `${HEAD}<a${manyAttributes(room - 16)}/>${TAIL}`,
    '16 MiB of text in one element (UTF-8, 2 bytes a character)': `${HEAD}<Domaine><Description>${fill('é', room - 64)}</Description></Domaine>${TAIL}`,
  };
  const results: string[] = [];
  for (const [name, xml] of Object.entries(inputs)) {
    const file = path.join(dir, 'input.xml');
    fs.writeFileSync(file, xml);
    assert.ok(fs.statSync(file).size <= DEFAULT_MAX_BYTES, `${name}: ${fs.statSync(file).size} bytes`);
    const { mb, outcome } = peakRss(file);
    results.push(`${name}: ${mb.toFixed(0)} MB, ${outcome}`);
    assert.ok(mb < 300, results.join('\n'));
    if (name.includes('(valid)')) assert.equal(outcome, 'verified', name);
    else if (name.includes('digest fails last')) assert.equal(outcome, 'WL_DIGEST_MISMATCH', name);
    else assert.notEqual(outcome, 'verified', name);
  }
  process.stdout.write(`# peak RSS: ${results.join('; ')}\n`);
});
