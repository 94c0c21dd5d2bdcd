// Issues test certificates shaped like IGC-Santé ones. node-forge (>= 1.4) builds the
// certificate; keys are generated and used by node:crypto (forge's pure-JS RSA is slow):
// forge hands the DER of the TBSCertificate to a signer that calls crypto.sign.
import { createHash, createPrivateKey, createPublicKey, generateKeyPair, sign as cryptoSign, X509Certificate, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import forge from 'node-forge';

const generateKeyPairAsync = promisify(generateKeyPair);

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** RSA keys on libuv's thread pool, so that several are generated in parallel. */
export async function generateRsaKey(bits = 2048): Promise<KeyPair> {
  return generateKeyPairAsync('rsa', { modulusLength: bits, publicExponent: 0x10001 });
}

/** Subject attributes in ASN.1 order (C first), as IGC-Santé writes them. */
export type SubjectAttr = readonly [type: 'C' | 'ST' | 'L' | 'O' | 'OU' | 'CN' | 'SERIALNUMBER', value: string];

const ATTR_OIDS: Record<SubjectAttr[0], string> = {
  C: '2.5.4.6',
  ST: '2.5.4.8',
  L: '2.5.4.7',
  O: '2.5.4.10',
  OU: '2.5.4.11',
  CN: '2.5.4.3',
  SERIALNUMBER: '2.5.4.5',
};

export interface IssuedCert {
  subject: readonly SubjectAttr[];
  certPem: string;
  keyPem: string;
  der: Buffer;
  /** Lowercase hex. */
  serial: string;
  keyPair: KeyPair;
  /** SHA-1 of the public key (binary string), for authorityKeyIdentifier of children. */
  keyId: string;
}

export type KeyUsageName = 'digitalSignature' | 'nonRepudiation' | 'keyEncipherment' | 'keyCertSign' | 'cRLSign';

export interface IssueParams {
  subject: readonly SubjectAttr[];
  keyPair: KeyPair;
  /** Absent: self-signed. */
  issuer?: IssuedCert;
  serial?: string;
  notBefore: Date;
  notAfter: Date;
  ca?: { pathLen?: number };
  keyUsage?: KeyUsageName[];
  extKeyUsage?: Array<'serverAuth' | 'clientAuth' | 'emailProtection'>;
  san?: { dns?: string[]; ip?: string[]; email?: string[] };
}

function forgeAttributes(subject: readonly SubjectAttr[]) {
  // C is a PrintableString (RFC 5280 Appendix A); IGC-Santé writes the rest as UTF8String.
  return subject.map(([type, value]) => ({
    type: ATTR_OIDS[type],
    value,
    valueTagClass: (type === 'C' ? forge.asn1.Type.PRINTABLESTRING : forge.asn1.Type.UTF8) as number,
  }));
}

function keyIdOf(publicKey: KeyObject): string {
  const spki = publicKey.export({ type: 'pkcs1', format: 'der' });
  return createHash('sha1').update(spki).digest('binary');
}

/**
 * A positive serial of 16 random-looking bytes unless one is given. The random one's first
 * byte is 01..7f: neither a 00 that DER forbids there nor a sign bit, so its hex reads the
 * same in forge, OpenSSL and the CRLs.
 */
function serialHex(given?: string): string {
  return given !== undefined ? minimalPositiveSerial(given) : randomSerial();
}

export function randomSerial(): string {
  const s = createHash('sha256').update(`${process.hrtime.bigint()}-${Math.random()}`).digest('hex').slice(0, 32);
  const first = parseInt(s.slice(0, 2), 16) & 0x7f || 0x01;
  return `${first.toString(16).padStart(2, '0')}${s.slice(2)}`;
}

/**
 * The hex of a serial as a minimal, positive DER INTEGER (X.690 §8.3.2; RFC 5280 §4.1.2.2):
 * forge writes the bytes as given, and OpenSSL refuses a certificate whose serial starts
 * with a 00 byte not needed for the sign ("illegal padding"). Random hex started so about
 * once in 512 certificates, which made a test PKI fail to load now and then.
 */
export function minimalPositiveSerial(hex: string): string {
  let s = hex.toLowerCase();
  if (!/^[0-9a-f]+$/.test(s)) throw new Error(`serial "${hex}" is not hexadecimal`);
  if (s.length % 2 === 1) s = `0${s}`;
  while (s.startsWith('00') && s.length > 2) s = s.slice(2);
  if (s === '00') throw new Error('a certificate serial must be positive (RFC 5280 §4.1.2.2), not 0');
  // A leading byte >= 0x80 would make the DER INTEGER negative: one 00 byte keeps it positive.
  return /^[89a-f]/.test(s) ? `00${s}` : s;
}

export function issueCertificate(p: IssueParams): IssuedCert {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(p.keyPair.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = serialHex(p.serial);
  cert.validity.notBefore = p.notBefore;
  cert.validity.notAfter = p.notAfter;
  cert.setSubject(forgeAttributes(p.subject));
  cert.setIssuer(forgeAttributes(p.issuer ? p.issuer.subject : p.subject));
  const keyId = keyIdOf(p.keyPair.publicKey);
  const exts: object[] = [];
  exts.push(
    p.ca
      ? { name: 'basicConstraints', critical: true, cA: true, ...(p.ca.pathLen !== undefined ? { pathLenConstraint: p.ca.pathLen } : {}) }
      : { name: 'basicConstraints', cA: false },
  );
  if (p.keyUsage) exts.push({ name: 'keyUsage', critical: true, ...Object.fromEntries(p.keyUsage.map((k) => [k, true])) });
  if (p.extKeyUsage) exts.push({ name: 'extKeyUsage', ...Object.fromEntries(p.extKeyUsage.map((k) => [k, true])) });
  const alt = [
    ...(p.san?.dns ?? []).map((value) => ({ type: 2, value })),
    ...(p.san?.ip ?? []).map((ip) => ({ type: 7, ip })),
    ...(p.san?.email ?? []).map((value) => ({ type: 1, value })),
  ];
  if (alt.length > 0) exts.push({ name: 'subjectAltName', altNames: alt });
  // forge derives it from the public key: SHA-1 of the RSAPublicKey, the same value as keyId.
  exts.push({ name: 'subjectKeyIdentifier' });
  exts.push({ name: 'authorityKeyIdentifier', keyIdentifier: p.issuer ? p.issuer.keyId : keyId });
  cert.setExtensions(exts);

  const signingKey = p.issuer ? p.issuer.keyPair.privateKey : p.keyPair.privateKey;
  // forge's cert.sign(key, md) feeds the TBSCertificate to md.update() and asks key.sign(md)
  // for the signature: collect the bytes and sign them with node:crypto.
  let tbs = '';
  const md = { algorithm: 'sha256', update: (bytes: string) => void (tbs += bytes) };
  const key = { sign: () => cryptoSign('sha256', Buffer.from(tbs, 'binary'), signingKey).toString('binary') };
  cert.sign(key as unknown as forge.pki.rsa.PrivateKey, md as unknown as forge.md.MessageDigest);

  const certPem = forge.pki.certificateToPem(cert);
  const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
  return {
    subject: p.subject,
    certPem,
    keyPem: p.keyPair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    der,
    serial: cert.serialNumber.toLowerCase(),
    keyPair: p.keyPair,
    keyId,
  };
}

/** Re-open an issuer from its PEM files (e.g. the sandbox intermediate) to issue more certificates. */
export function issuerFromPem(certPem: string, keyPem: string, subject: readonly SubjectAttr[]): IssuedCert {
  const privateKey = createPrivateKey(keyPem);
  const publicKey = createPublicKey(privateKey);
  const der = new X509Certificate(certPem).raw;
  return {
    subject,
    certPem,
    keyPem,
    der,
    serial: new X509Certificate(certPem).serialNumber.toLowerCase(),
    keyPair: { privateKey, publicKey },
    keyId: keyIdOf(publicKey),
  };
}

/** RFC 4514 string of an ASN.1-ordered subject (CN first), as the liste blanche writes it. */
export function subjectString(subject: readonly SubjectAttr[]): string {
  return [...subject]
    .reverse()
    .map(([t, v]) => `${t}=${v.replace(/[\\"+,;<>]/g, (c) => `\\${c}`)}`)
    .join(',');
}
