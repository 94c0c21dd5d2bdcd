// The sandbox PSC's signing keys: one current key signs, every published key verifies.
// rotate() adds a new current key and keeps the previous ones published, as an OIDC
// provider does during a rotation; retire() unpublishes a key.
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';

export interface SigningKey {
  kid: string;
  alg: 'RS256';
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

export async function newSigningKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = `sandbox-${randomBytes(6).toString('hex')}`;
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return { kid, alg: 'RS256', privateKey, publicKey, publicJwk };
}

export class KeyRing {
  private keys: SigningKey[];

  private constructor(first: SigningKey) {
    this.keys = [first];
  }

  static async create(): Promise<KeyRing> {
    return new KeyRing(await newSigningKey());
  }

  get current(): SigningKey {
    return this.keys[this.keys.length - 1] as SigningKey;
  }

  get published(): readonly SigningKey[] {
    return this.keys;
  }

  find(kid: string | undefined): SigningKey | undefined {
    return this.keys.find((k) => k.kid === kid);
  }

  async rotate(): Promise<SigningKey> {
    const next = await newSigningKey();
    this.keys.push(next);
    return next;
  }

  retire(kid: string): void {
    if (this.keys.length > 1) this.keys = this.keys.filter((k) => k.kid !== kid);
  }

  jwks(): { keys: JWK[] } {
    return { keys: this.keys.map((k) => k.publicJwk) };
  }
}
