// The PSC issuer's OpenID discovery document gives the two endpoints EX_LPS_0900 needs:
// `jwks_uri` (step 5, the keys) and `userinfo_endpoint` (step 7, the IdNat). It is read
// once and kept for `maxAgeMs`; a failed read is retried on the next login, never cached.
import { MssError } from '../../errors.js';
import { jsonObject, pscGet, type PscHttpOptions } from './http.js';

export interface PscEndpoints {
  issuer: string;
  jwksUri: string;
  userInfoEndpoint: string;
}

export class PscDiscovery {
  private cached: { endpoints: PscEndpoints; at: number } | undefined;
  private pending: Promise<PscEndpoints> | undefined;

  constructor(
    readonly issuer: string,
    private readonly http: PscHttpOptions,
    private readonly maxAgeMs: number,
  ) {}

  get documentUrl(): string {
    return `${this.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  }

  async endpoints(): Promise<PscEndpoints> {
    if (this.cached && Date.now() - this.cached.at < this.maxAgeMs) return this.cached.endpoints;
    this.pending ??= this.fetch().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async fetch(): Promise<PscEndpoints> {
    const url = this.documentUrl;
    const res = await pscGet(url, this.http);
    if (res.status !== 200) throw new MssError('PSC_BAD_RESPONSE', `${url} answered ${res.status}, expected 200`, { url, status: res.status });
    const doc = jsonObject(res, url);
    // OpenID Connect Discovery §4.3: the document must name exactly the issuer we asked.
    if (doc.issuer !== this.issuer) {
      throw new MssError('PSC_DISCOVERY_INVALID', `${url} names issuer ${JSON.stringify(doc.issuer)}, expected ${this.issuer} (auth.psc.issuer)`, { url });
    }
    const endpoints = { issuer: this.issuer, jwksUri: httpsField(doc, 'jwks_uri', url), userInfoEndpoint: httpsField(doc, 'userinfo_endpoint', url) };
    this.cached = { endpoints, at: Date.now() };
    return endpoints;
  }
}

function httpsField(doc: Record<string, unknown>, field: string, url: string): string {
  const value = doc[field];
  if (typeof value !== 'string' || !/^https:\/\/[^\s]+$/.test(value)) {
    throw new MssError('PSC_DISCOVERY_INVALID', `${url}: "${field}" is ${JSON.stringify(value)}, expected an https:// URL`, { url, field });
  }
  return value;
}
