// Access tokens a genuine PSC would never issue, built from a sandbox PSC's valid ones:
// the forgeries EX_LPS_0900 step 5 must refuse.
import { exportSPKI, SignJWT, type JWTPayload } from 'jose';
import type { SandboxPsc } from '../../sandbox/psc/sandbox-psc.js';

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

function parts(token: string): { header: Record<string, unknown>; payload: JWTPayload; signature: string } {
  const [h = '', p = '', s = ''] = token.split('.');
  return { header: JSON.parse(Buffer.from(h, 'base64url').toString('utf8')), payload: JSON.parse(Buffer.from(p, 'base64url').toString('utf8')), signature: s };
}

/** The same claims with `alg: none` and no signature. */
export function unsignedToken(valid: string): string {
  const { payload } = parts(valid);
  return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(payload)}.`;
}

/** A changed claim under the original signature. */
export function tamperedToken(valid: string, change: JWTPayload = { exp: Math.floor(Date.now() / 1000) + 86_400 }): string {
  const { header, payload, signature } = parts(valid);
  return `${b64url(header)}.${b64url({ ...payload, ...change })}.${signature}`;
}

/** Algorithm confusion: HS256 "signed" with PSC's public key (SPKI PEM) as the HMAC secret, with its kid. */
export async function hmacWithPublicKeyToken(psc: SandboxPsc, valid: string): Promise<string> {
  const { payload } = parts(valid);
  const key = psc.keys.current;
  const secret = new TextEncoder().encode(await exportSPKI(key.publicKey));
  return new SignJWT(payload).setProtectedHeader({ alg: 'HS256', kid: key.kid, typ: 'JWT' }).sign(secret);
}

/** Validly signed with PSC's current key, but not issued through its mint: UserInfo does not know it. */
export async function signedNotIssued(psc: SandboxPsc, claims: JWTPayload): Promise<string> {
  const key = psc.keys.current;
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid }).setIssuedAt().setExpirationTime('10m').sign(key.privateKey);
}
