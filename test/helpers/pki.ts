// One test PKI per test file (generated at run time; never committed: private keys), and
// the small things tests build from it.
import fs from 'node:fs';
import { generateTestPki, INTERMEDIATE_SUBJECT, type PkiManifest } from '../../sandbox/pki.js';
import { issuerFromPem, type IssuedCert } from '../../sandbox/cert-factory.js';
import { TrustStore } from '../../src/pki/truststore.js';
import { tmpDir } from './tmp.js';

let shared: Promise<PkiManifest> | undefined;

export function testPki(): Promise<PkiManifest> {
  shared ??= generateTestPki(tmpDir('mss-pki-'));
  return shared;
}

export function trustOf(pki: PkiManifest): TrustStore {
  return TrustStore.fromDir(pki.trustDir);
}

export function intermediateIssuer(pki: PkiManifest): IssuedCert {
  return issuerFromPem(fs.readFileSync(pki.intermediate.cert, 'utf8'), fs.readFileSync(pki.intermediate.key, 'utf8'), INTERMEDIATE_SUBJECT);
}

/** PEM certificate and key of a PKI entry. */
export function material(c: { cert: string; key: string }): { certPem: string; keyPem: string } {
  return { certPem: fs.readFileSync(c.cert, 'utf8'), keyPem: fs.readFileSync(c.key, 'utf8') };
}
