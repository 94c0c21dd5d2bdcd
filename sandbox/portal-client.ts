// A browser-less client of the professionals' portal, for the sandbox self-check and the
// HTTP tests: HTTPS with the sandbox CA, a cookie jar per origin, redirects followed across
// the portal and the sandbox PSC, and the sign-in through the PSC test login page (choose a
// professional). The browser tests drive the same pages with Chromium.
import { httpsRequest, type HttpsResponse } from '../src/net/https-request.js';

export interface PortalPage {
  url: string;
  status: number;
  html: string;
  /** Every URL visited to get here (redirects included). */
  visited: string[];
  headers: HttpsResponse['headers'];
}

interface Cookie {
  value: string;
  path: string;
}

export class PortalClient {
  private readonly jar = new Map<string, Map<string, Cookie>>();
  /** Response time of each request, ms (the self-check and tests report them). */
  readonly timings: Array<{ url: string; ms: number }> = [];

  constructor(
    /** PEM CAs trusted for the portal and PSC. */
    private readonly ca: string | string[],
    private readonly timeoutMs = 15_000,
  ) {}

  async get(url: string): Promise<PortalPage> {
    return this.follow(url, 'GET');
  }

  /** POST a form (application/x-www-form-urlencoded), then follow redirects. */
  async post(url: string, form: Record<string, string>): Promise<PortalPage> {
    return this.follow(url, 'POST', new URLSearchParams(form).toString());
  }

  /**
   * Sign in on `portalUrl` through PSC's test login page as `idNat` (a listed test
   * professional, or any identifier typed in "Autre identifiant").
   */
  async signIn(portalUrl: string, idNat: string): Promise<PortalPage> {
    const login = await this.get(`${portalUrl}/connexion`);
    if (login.visited.at(-1)?.startsWith(portalUrl)) return login; // already signed in, or refused before PSC
    const requestId = /name="request_id" value="([^"]+)"/.exec(login.html)?.[1];
    const action = /<form method="post" action="([^"]+)"/.exec(login.html)?.[1];
    if (!requestId || !action) throw new Error(`the PSC login page was expected at ${login.url} (HTTP ${login.status})`);
    return this.post(new URL(action, login.url).href, { request_id: requestId, other: idNat });
  }

  /** The cookie `name` this client holds for `url`'s origin. */
  cookie(url: string, name: string): string | undefined {
    return this.jar.get(new URL(url).origin)?.get(name)?.value;
  }

  /** Drop a cookie (a browser that lost it, or a closed window). */
  forget(url: string, name: string): void {
    this.jar.get(new URL(url).origin)?.delete(name);
  }

  setCookie(url: string, name: string, value: string): void {
    const origin = new URL(url).origin;
    const m = this.jar.get(origin) ?? new Map<string, Cookie>();
    m.set(name, { value, path: '/' });
    this.jar.set(origin, m);
  }

  private async follow(start: string, method: string, body?: string): Promise<PortalPage> {
    const visited: string[] = [];
    let url = start;
    for (let hop = 0; hop < 10; hop++) {
      visited.push(url);
      const t = Date.now();
      const res = await httpsRequest({
        url,
        method,
        headers: { accept: 'text/html', ...(body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {}), ...this.cookieHeader(url) },
        ...(body !== undefined ? { body } : {}),
        ca: this.ca,
        timeoutMs: this.timeoutMs,
        maxBytes: 2 * 1024 * 1024,
      });
      this.timings.push({ url: url.split('?')[0] ?? url, ms: Date.now() - t });
      this.store(url, res.headers['set-cookie']);
      const location = res.headers.location;
      if (res.status >= 300 && res.status < 400 && typeof location === 'string') {
        url = new URL(location, url).href;
        method = 'GET';
        body = undefined;
        continue;
      }
      return { url, status: res.status, html: res.body.toString('utf8'), visited, headers: res.headers };
    }
    throw new Error(`more than 10 redirects from ${start}`);
  }

  private cookieHeader(url: string): Record<string, string> {
    const u = new URL(url);
    const m = this.jar.get(u.origin);
    if (!m) return {};
    const pairs = [...m.entries()].filter(([, c]) => u.pathname.startsWith(c.path)).map(([k, c]) => `${k}=${c.value}`);
    return pairs.length > 0 ? { cookie: pairs.join('; ') } : {};
  }

  private store(url: string, setCookie: string[] | undefined): void {
    if (!setCookie) return;
    const origin = new URL(url).origin;
    const m = this.jar.get(origin) ?? new Map<string, Cookie>();
    for (const line of setCookie) {
      const [pair = '', ...attrs] = line.split(';').map((s) => s.trim());
      const i = pair.indexOf('=');
      if (i <= 0) continue;
      const name = pair.slice(0, i);
      const value = pair.slice(i + 1);
      const attr = (n: string) => attrs.find((a) => a.toLowerCase().startsWith(`${n}=`))?.slice(n.length + 1);
      const expired = attr('max-age') === '0' || (attr('expires') !== undefined && Date.parse(attr('expires') as string) <= Date.now());
      if (expired || value === '') m.delete(name);
      else m.set(name, { value, path: attr('path') ?? '/' });
    }
    this.jar.set(origin, m);
  }
}

/** The value of the page's first CSRF field. */
export function csrfOf(html: string): string {
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  if (!token) throw new Error('no _csrf field in the page');
  return token;
}
