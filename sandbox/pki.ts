// A test PKI shaped like IGC-Santé, generated at run time (never committed: private keys).
//   root "SANDBOX AC RACINE IGC-SANTE ELEMENTAIRE"
//   └─ intermediate "SANDBOX AC IGC-SANTE ELEMENTAIRE ORGANISATIONS" (pathlen 0)
//      ├─ operator server certificates  CN=<fqdn>,OU=<IdNat>,O=<raison sociale>,ST=<Département (NN)>,C=FR
//      ├─ AUTH-CLI client certificates  CN=Authentification MSS,OU=<IdNat>,O=…,ST=…,C=FR
//      ├─ the ANS liste blanche signer (subject matching the default whitelist.signer.subject)
//      ├─ an HTTPS server certificate for loopback sandbox services (localhost, 127.0.0.1)
//      └─ rogue (valid, in no list), expired, revoked (listed in the intermediate's CRL)
// Layout of DIR is fixed and described by DIR/pki.json (PkiManifest).
import fs from 'node:fs';
import path from 'node:path';
import { webcrypto } from 'node:crypto';
import { MssError } from '../src/errors.js';
import { x509 } from '../src/pki/x509-lib.js';
import { generateRsaKey, issueCertificate, subjectString, type IssuedCert, type KeyPair, type SubjectAttr } from './cert-factory.js';

export interface OperatorSpec {
  /** Short identifier used in file names and sandbox.json ("A", "B"). */
  id: string;
  /** FQDN of the operator's connector: the CN of its server certificate (§6.6, Tableau 44). */
  fqdn: string;
  /** <Prefix_Type><IdNat_Struct>: the OU. */
  structureId: string;
  /** Raison sociale: the O. */
  organisation: string;
  /** "<Nom département> (<N°>)": the ST. */
  department: string;
  /** Mail domains this operator serves (its DN is listed for each in the sandbox list). */
  domains: string[];
}

export interface AuthCliSpec {
  id: string;
  structureId: string;
  organisation: string;
  department: string;
}

export interface TestPkiOptions {
  operators?: OperatorSpec[];
  /** Default: one AUTH-CLI certificate per operator. */
  authCli?: AuthCliSpec[];
  /** Reference time for validity periods (default now). */
  now?: Date;
}

/** Paths are relative to the PKI directory in pki.json, absolute once loaded. */
export interface PkiCert {
  cert: string;
  key: string;
  /** RFC 4514 string, CN first, as a liste blanche entry would write it. */
  subject: string;
  serial: string;
  notBefore: string;
  notAfter: string;
}

export interface PkiManifest {
  version: 1;
  generatedAt: string;
  /** Absolute directory (set when loaded; "." in the file). */
  dir: string;
  /** CA certificates only (root and intermediate): what `--trust` and `trust.dir` point to. */
  trustDir: string;
  crlDir: string;
  root: PkiCert;
  intermediate: PkiCert;
  ansSigner: PkiCert;
  /** `chain`: the certificate followed by the intermediate, what a server presents (RFC 8446 §4.4.2: the whole path but the root). */
  https: PkiCert & { hosts: string[]; chain: string };
  operators: Array<PkiCert & OperatorSpec>;
  authCli: Array<PkiCert & AuthCliSpec>;
  rogue: PkiCert;
  expired: PkiCert;
  revoked: PkiCert;
  /** DER CRLs: the intermediate's lists `revoked`; the root's lists nothing. */
  crls: { intermediate: string; root: string };
  /** Every file written, for inventories and clean-up. */
  files: string[];
}

export const ANS_SIGNER_SUBJECT: readonly SubjectAttr[] = [
  ['C', 'FR'],
  ['ST', 'Paris (75)'],
  ['O', 'AGENCE DU NUMERIQUE EN SANTE'],
  ['OU', '318751275100020'],
  ['CN', 'SIGNATURE LISTE BLANCHE MSSANTE SANDBOX'],
];

const IGC_OU: SubjectAttr[] = [
  ['C', 'FR'],
  ['O', 'ASIP-SANTE'],
  ['OU', '0002 187512751'],
  ['OU', 'IGC-SANTE SANDBOX'],
];
export const ROOT_SUBJECT: readonly SubjectAttr[] = [...IGC_OU, ['CN', 'SANDBOX AC RACINE IGC-SANTE ELEMENTAIRE']];
export const INTERMEDIATE_SUBJECT: readonly SubjectAttr[] = [...IGC_OU, ['CN', 'SANDBOX AC IGC-SANTE ELEMENTAIRE ORGANISATIONS']];

/** The two operators the sandbox simulates: distinct FQDN, IdNat, O and ST (one accented). */
export const SANDBOX_OPERATORS: readonly OperatorSpec[] = [
  {
    id: 'A',
    fqdn: 'mss.ch-sandbox-a.fr',
    structureId: '1130099991',
    organisation: 'CENTRE HOSPITALIER SANDBOX A',
    department: 'Bouches-du-Rhône (13)',
    domains: ['ch-sandbox-a.mssante.fr', 'labo.ch-sandbox-a.mssante.fr', 'ght-sandbox.mssante.fr'],
  },
  {
    id: 'B',
    fqdn: 'smtp.clinique-sandbox-b.fr',
    structureId: '331234567800019',
    organisation: 'CLINIQUE SANDBOX B',
    department: 'Paris (75)',
    domains: ['clinique-sandbox-b.mssante.fr', 'ght-sandbox.mssante.fr'],
  },
];

export function operatorSubject(op: Pick<OperatorSpec, 'fqdn' | 'structureId' | 'organisation' | 'department'>): SubjectAttr[] {
  // ASN.1 order C, ST, O, OU, CN gives the RFC 2253 string CN,OU,O,ST,C of Tableau 44.
  return [
    ['C', 'FR'],
    ['ST', op.department],
    ['O', op.organisation],
    ['OU', op.structureId],
    ['CN', op.fqdn],
  ];
}

export function authCliSubject(spec: AuthCliSpec): SubjectAttr[] {
  return [
    ['C', 'FR'],
    ['ST', spec.department],
    ['O', spec.organisation],
    ['OU', spec.structureId],
    ['CN', 'Authentification MSS'],
  ];
}

const DAY = 86_400_000;
/** How long the sandbox's CRLs are current (nextUpdate): a week, as an IGC-Santé CA publishes. */
export const CRL_VALIDITY_MS = 7 * DAY;

class Writer {
  readonly files: string[] = [];
  constructor(readonly dir: string) {}

  write(rel: string, data: string | Uint8Array, mode = 0o644): string {
    const file = path.join(this.dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, data, { mode });
    fs.chmodSync(file, mode); // umask must not loosen 0600 keys
    this.files.push(rel);
    return rel;
  }

  /** Certificate and key side by side, or in separate places (CA certificates go to trust/). */
  pair(base: string, c: IssuedCert, certRel = `${base}.crt`): PkiCert {
    return {
      cert: this.write(certRel, c.certPem),
      key: this.write(`${base}.key`, c.keyPem, 0o600),
      subject: subjectString(c.subject),
      serial: c.serial,
      notBefore: '',
      notAfter: '',
    };
  }
}

function withValidity(entry: PkiCert, from: Date, to: Date): PkiCert {
  return { ...entry, notBefore: from.toISOString(), notAfter: to.toISOString() };
}

/** A DER CRL signed by `issuer` (@peculiar/x509), valid from an hour ago for a week by default. */
export async function createCrl(
  issuer: Pick<IssuedCert, 'der' | 'keyPair'>,
  revokedSerials: string[],
  now: Date,
  validity: { thisUpdate?: Date; nextUpdate?: Date; number?: number; deltaOf?: number; removed?: string[] } = {},
): Promise<Buffer> {
  const pkcs8 = issuer.keyPair.privateKey.export({ type: 'pkcs8', format: 'der' });
  const signingKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']);
  const issuerName = new x509.X509Certificate(issuer.der).subjectName;
  const thisUpdate = validity.thisUpdate ?? new Date(now.getTime() - 3_600_000);
  const crl = await x509.X509CrlGenerator.create({
    issuer: issuerName,
    thisUpdate,
    nextUpdate: validity.nextUpdate ?? new Date(now.getTime() + CRL_VALIDITY_MS),
    entries: [
      ...revokedSerials.map((serialNumber) => ({ serialNumber, revocationDate: thisUpdate, reason: x509.X509CrlReason.keyCompromise })),
      ...(validity.removed ?? []).map((serialNumber) => ({ serialNumber, revocationDate: thisUpdate, reason: x509.X509CrlReason.removeFromCRL })),
    ],
    // cRLNumber and, for a delta CRL, deltaCRLIndicator (critical, RFC 5280 §5.2.4).
    extensions: [
      ...(validity.number !== undefined ? [new x509.Extension('2.5.29.20', false, derInteger(validity.number))] : []),
      ...(validity.deltaOf !== undefined ? [new x509.Extension('2.5.29.27', true, derInteger(validity.deltaOf))] : []),
    ],
    signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as Algorithm,
    signingKey: signingKey as unknown as x509.X509CrlCreateParams['signingKey'],
  });
  return Buffer.from(crl.rawData);
}

type Algorithm = x509.X509CrlCreateParams['signingAlgorithm'];

/** DER INTEGER of a small non-negative number. */
function derInteger(n: number): Uint8Array {
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  if (/^[89a-f]/.test(hex)) hex = `00${hex}`;
  const body = Buffer.from(hex, 'hex');
  return Uint8Array.from([0x02, body.length, ...body]);
}

/** Generate the whole PKI into `dir` (created if needed) and return its manifest. */
export async function generateTestPki(dir: string, opts: TestPkiOptions = {}): Promise<PkiManifest> {
  const now = opts.now ?? new Date();
  const operators = opts.operators ?? [...SANDBOX_OPERATORS];
  const authCli = opts.authCli ?? operators.map(({ id, structureId, organisation, department }) => ({ id, structureId, organisation, department }));
  const ids = [...operators, ...authCli].map((o) => o.id);
  for (const id of ids)
    if (!/^[A-Za-z0-9_-]+$/.test(id)) throw new MssError('USAGE_PKI_ID', `operator id "${id}" must be letters, digits, - or _ (it names files)`);

  // Every key at once: generation runs on the thread pool and dominates the run time.
  const keyCount = 7 + operators.length + authCli.length;
  const keys: KeyPair[] = await Promise.all(Array.from({ length: keyCount }, () => generateRsaKey()));
  const nextKey = (): KeyPair => keys.pop() as KeyPair;

  const w = new Writer(dir);
  fs.mkdirSync(dir, { recursive: true });
  const rootFrom = new Date(now.getTime() - DAY);
  const rootTo = new Date(now.getTime() + 3650 * DAY);
  const interTo = new Date(now.getTime() + 1825 * DAY);
  const leafFrom = new Date(now.getTime() - 3_600_000);
  const leafTo = new Date(now.getTime() + 730 * DAY);

  const root = issueCertificate({
    subject: ROOT_SUBJECT,
    keyPair: nextKey(),
    notBefore: rootFrom,
    notAfter: rootTo,
    ca: {},
    keyUsage: ['keyCertSign', 'cRLSign'],
  });
  const inter = issueCertificate({
    subject: INTERMEDIATE_SUBJECT,
    keyPair: nextKey(),
    issuer: root,
    notBefore: rootFrom,
    notAfter: interTo,
    ca: { pathLen: 0 },
    keyUsage: ['keyCertSign', 'cRLSign'],
  });
  const leaf = (subject: readonly SubjectAttr[], extra: Partial<Parameters<typeof issueCertificate>[0]> = {}) =>
    issueCertificate({
      subject,
      keyPair: nextKey(),
      issuer: inter,
      notBefore: leafFrom,
      notAfter: leafTo,
      keyUsage: ['digitalSignature', 'keyEncipherment'],
      extKeyUsage: ['serverAuth', 'clientAuth'],
      ...extra,
    });

  const rootEntry = withValidity(w.pair('ca/root-ca', root, 'trust/sandbox-root-ca.crt'), rootFrom, rootTo);
  const interEntry = withValidity(w.pair('ca/intermediate-ca', inter, 'trust/sandbox-intermediate-ca.crt'), rootFrom, interTo);

  const signer = leaf(ANS_SIGNER_SUBJECT, { keyUsage: ['digitalSignature', 'nonRepudiation'], extKeyUsage: ['emailProtection'] });
  const httpsHosts = ['localhost', '127.0.0.1'];
  const https = leaf(
    [
      ['C', 'FR'],
      ['ST', 'Paris (75)'],
      ['O', 'AGENCE DU NUMERIQUE EN SANTE'],
      ['OU', '318751275100020'],
      ['CN', 'localhost'],
    ],
    { extKeyUsage: ['serverAuth'], san: { dns: ['localhost'], ip: ['127.0.0.1'] } },
  );
  const opCerts = operators.map((op) => ({ op, c: leaf(operatorSubject(op), { san: { dns: [op.fqdn] } }) }));
  const cliCerts = authCli.map((spec) => ({ spec, c: leaf(authCliSubject(spec), { extKeyUsage: ['clientAuth'], keyUsage: ['digitalSignature'] }) }));
  const rogue = leaf(
    operatorSubject({ fqdn: 'mss.rogue.sandbox.invalid', structureId: '1590000000', organisation: 'STRUCTURE NON REFERENCEE', department: 'Nord (59)' }),
  );
  const expiredFrom = new Date(now.getTime() - 400 * DAY);
  const expiredTo = new Date(now.getTime() - 30 * DAY);
  const expired = leaf(
    operatorSubject({ fqdn: 'mss.expired.sandbox.invalid', structureId: '1690000000', organisation: 'STRUCTURE CERTIFICAT EXPIRE', department: 'Rhône (69)' }),
    {
      notBefore: expiredFrom,
      notAfter: expiredTo,
    },
  );
  const revoked = leaf(
    operatorSubject({
      fqdn: 'mss.revoked.sandbox.invalid',
      structureId: '1330000000',
      organisation: 'STRUCTURE CERTIFICAT REVOQUE',
      department: 'Gironde (33)',
    }),
  );

  const [interCrl, rootCrl] = await Promise.all([createCrl(inter, [revoked.serial], now), createCrl(root, [], now)]);

  const manifest: PkiManifest = {
    version: 1,
    generatedAt: now.toISOString(),
    dir: '.',
    trustDir: 'trust',
    crlDir: 'crl',
    root: rootEntry,
    intermediate: interEntry,
    ansSigner: withValidity(w.pair('ans-signer', signer), leafFrom, leafTo),
    https: {
      ...withValidity(w.pair('https/localhost', https), leafFrom, leafTo),
      hosts: httpsHosts,
      chain: w.write('https/localhost-chain.crt', https.certPem + inter.certPem),
    },
    operators: opCerts.map(({ op, c }) => ({ ...withValidity(w.pair(`operators/${op.id.toLowerCase()}`, c), leafFrom, leafTo), ...op })),
    authCli: cliCerts.map(({ spec, c }) => ({ ...withValidity(w.pair(`auth-cli/${spec.id.toLowerCase()}`, c), leafFrom, leafTo), ...spec })),
    rogue: withValidity(w.pair('rogue', rogue), leafFrom, leafTo),
    expired: withValidity(w.pair('expired', expired), expiredFrom, expiredTo),
    revoked: withValidity(w.pair('revoked', revoked), leafFrom, leafTo),
    crls: { intermediate: w.write('crl/sandbox-intermediate-ca.crl', interCrl), root: w.write('crl/sandbox-root-ca.crl', rootCrl) },
    files: [],
  };
  manifest.files = [...w.files, 'pki.json'].sort();
  fs.writeFileSync(path.join(dir, 'pki.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return resolveManifest(manifest, dir);
}

function resolveCert<T extends PkiCert>(c: T, dir: string): T {
  return { ...c, cert: path.resolve(dir, c.cert), key: path.resolve(dir, c.key) };
}

/**
 * Whether a sandbox may reuse the PKI it generated earlier: only while, for a day more, the
 * certificates that should be valid still are and its CRLs (made with it, current for
 * CRL_VALIDITY_MS) are still current — the gates and the liste blanche's signer check refuse
 * a CA without a current CRL (crl.requireCurrent), so a week-old sandbox would refuse itself.
 */
export function reusablePki(m: Pick<PkiManifest, 'generatedAt' | 'operators'>, now = Date.now()): boolean {
  const margin = now + DAY;
  return Date.parse(m.operators[0]?.notAfter ?? '') > margin && Date.parse(m.generatedAt) + CRL_VALIDITY_MS > margin;
}

/** An entry of pki.json that older versions did not write: regenerate rather than guess. */
function requiredEntry(value: string | undefined, name: string, dir: string): string {
  if (value) return value;
  throw new MssError(
    'SANDBOX_PKI_MISSING',
    `${path.join(dir, 'pki.json')} has no ${name} (written by an older version): generate it again with \`mss-sidecar sandbox pki --out ${dir}\``,
    { dir },
  );
}

function resolveManifest(m: PkiManifest, dir: string): PkiManifest {
  const abs = path.resolve(dir);
  return {
    ...m,
    dir: abs,
    trustDir: path.resolve(abs, m.trustDir),
    crlDir: path.resolve(abs, m.crlDir),
    root: resolveCert(m.root, abs),
    intermediate: resolveCert(m.intermediate, abs),
    ansSigner: resolveCert(m.ansSigner, abs),
    https: { ...resolveCert(m.https, abs), chain: path.resolve(abs, requiredEntry(m.https.chain, 'https.chain', abs)) },
    operators: m.operators.map((o) => resolveCert(o, abs)),
    authCli: m.authCli.map((o) => resolveCert(o, abs)),
    rogue: resolveCert(m.rogue, abs),
    expired: resolveCert(m.expired, abs),
    revoked: resolveCert(m.revoked, abs),
    crls: { intermediate: path.resolve(abs, m.crls.intermediate), root: path.resolve(abs, m.crls.root) },
    files: m.files.map((f) => path.resolve(abs, f)),
  };
}

/** Read DIR/pki.json; every path in the result is absolute. */
export function loadPkiManifest(dir: string): PkiManifest {
  const file = path.join(dir, 'pki.json');
  let raw: PkiManifest;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8')) as PkiManifest;
  } catch (err) {
    throw new MssError('SANDBOX_PKI_MISSING', `${file} cannot be read (generate it with \`mss-sidecar sandbox pki --out ${dir}\`): ${(err as Error).message}`, {
      file,
    });
  }
  if (raw.version !== 1) throw new MssError('SANDBOX_PKI_VERSION', `${file}: unsupported version ${String(raw.version)}`, { file });
  return resolveManifest(raw, dir);
}
