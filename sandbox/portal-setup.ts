// Operator A's professionals' portal in the sandbox: a free loopback port, the portal
// registered as a client of the sandbox PSC through its registration endpoint (RFC 7591, as
// an operator's raccordement gives it a client ID and secret), the secret in a 0600 file,
// and the `portal` section of A's configuration (HTTPS with the sandbox certificate).
import fs from 'node:fs';
import path from 'node:path';
import type { ConfigInput } from '../src/config/schema.js';
import { httpsRequest } from '../src/net/https-request.js';
import { freePort } from '../src/util/free-port.js';
import type { SandboxEndpoints } from './manifest.js';
import type { PkiManifest } from './pki.js';

export interface SandboxPortal {
  url: string;
  clientId: string;
  config: NonNullable<ConfigInput['portal']>;
}

export async function setUpSandboxPortal(
  psc: NonNullable<SandboxEndpoints['psc']>,
  pki: PkiManifest,
  stateDir: string,
  host = '127.0.0.1',
): Promise<SandboxPortal> {
  const port = await freePort();
  const url = `https://${host}:${port}`;
  const res = await httpsRequest({
    url: `${psc.issuer}/clients-registrations/openid-connect`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'Espace professionnel MSSanté (bac à sable, opérateur A)',
      redirect_uris: [`${url}/connexion/retour`],
      post_logout_redirect_uris: [`${url}/deconnecte`],
    }),
    ca: fs.readFileSync(psc.ca, 'utf8'),
    timeoutMs: 10_000,
    maxBytes: 65_536,
  });
  const reg = JSON.parse(res.body.toString('utf8')) as { client_id?: string; client_secret?: string };
  if (res.status !== 201 || !reg.client_id || !reg.client_secret) throw new Error(`the sandbox PSC did not register the portal: HTTP ${res.status}`);
  fs.mkdirSync(stateDir, { recursive: true });
  const secretFile = path.join(stateDir, 'portal-psc-client-secret');
  fs.writeFileSync(secretFile, `${reg.client_secret}\n`, { mode: 0o600 });
  // The sandbox HTTPS certificate with its intermediate: browsers trusting the test root build the chain.
  const chainFile = path.join(stateDir, 'portal-chain.pem');
  fs.writeFileSync(chainFile, fs.readFileSync(pki.https.cert, 'utf8') + fs.readFileSync(pki.intermediate.cert, 'utf8'), { mode: 0o644 });
  return {
    url,
    clientId: reg.client_id,
    config: {
      enabled: true,
      listen: { host, port },
      publicUrl: url,
      certificate: chainFile,
      key: pki.https.key,
      psc: { issuer: psc.issuer, caFile: psc.ca, clientId: reg.client_id, clientSecretFile: secretFile },
    },
  };
}
