// The professionals' portal in a test process, as `serve` runs it (startDaemon on a
// configuration file with only the portal enabled), signing in with a sandbox PSC on
// loopback, on a registry of the test's choosing and the embedded store (or Redis).
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import type { Config, ConfigInput } from '../../src/config/schema.js';
import { startDaemon, type RunningDaemon } from '../../src/daemon/run.js';
import type { RegisteredClient } from '../../sandbox/psc/code-flow.js';
import type { SandboxPsc } from '../../sandbox/psc/sandbox-psc.js';
import { tracesDir } from '../../src/traces/config.js';
import { PortalClient } from '../../sandbox/portal-client.js';
import { captureLogger } from './log.js';
import { freePort } from './ports.js';
import { DOMAIN, writeRegistry } from './registry.js';
import type { TestCert } from './tls-cert.js';

export { PortalClient, csrfOf } from '../../sandbox/portal-client.js';

export interface PortalNode {
  url: string;
  config: Config;
  daemon: RunningDaemon;
  client: RegisteredClient;
  registryFile: string;
  tracesDir: string;
  /** What the daemon logged (debug included): tests look for secrets there. */
  logLines: string[];
  /** A fresh browser-less client trusting the test certificate. */
  browser(): PortalClient;
  stop(): Promise<void>;
}

export interface PortalNodeOptions {
  /** The registry's mailboxes (test/helpers/registry.ts builders), or an existing file. */
  mailboxes?: Array<Record<string, unknown>>;
  registryFile?: string;
  sessions?: { idleSeconds?: number; maxSeconds?: number; signInSeconds?: number };
  /** State in Redis (several nodes) instead of files under the node's directory. */
  redis?: { url: string; keyPrefix: string };
  /** Another node of the same site: same registry, state and traces. */
  stateDir?: string;
}

export async function startPortalNode(dir: string, psc: SandboxPsc, cert: TestCert, opts: PortalNodeOptions = {}): Promise<PortalNode> {
  fs.mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const url = `https://127.0.0.1:${port}`;
  const client = psc.registerClient({ redirectUris: [`${url}/connexion/retour`], postLogoutRedirectUris: [`${url}/deconnecte`], name: 'portail de test' });
  const secretFile = path.join(dir, 'client-secret');
  fs.writeFileSync(secretFile, client.clientSecret, { mode: 0o600 });
  const registryFile = opts.registryFile ?? writeRegistry(dir, opts.mailboxes ?? []);
  const trustDir = path.join(dir, 'trust');
  fs.mkdirSync(trustDir, { recursive: true });
  const stateDir = opts.stateDir ?? path.join(dir, 'state');
  const input: ConfigInput = {
    operator: { name: 'CH de Test', domains: [DOMAIN], structureId: '1130000001', certificate: cert.certFile, key: cert.keyFile },
    trust: { dir: trustDir },
    state: { dir: stateDir, ...(opts.redis ? { redis: opts.redis } : {}) },
    registry: { file: registryFile },
    portal: {
      enabled: true,
      listen: { host: '127.0.0.1', port },
      publicUrl: url,
      psc: { issuer: psc.issuer, caFile: cert.certFile, clientId: client.clientId, clientSecretFile: secretFile },
      ...(opts.sessions ? { sessions: opts.sessions } : {}),
    },
  };
  const configFile = path.join(dir, 'config.yaml');
  fs.writeFileSync(configFile, stringify(input));
  const config = loadConfig(configFile);
  const { log, lines } = captureLogger('debug');
  const daemon = await startDaemon(config, log);
  return {
    url,
    config,
    daemon,
    client,
    registryFile,
    tracesDir: tracesDir(config.traces, config.state.dir),
    logLines: lines,
    browser: () => new PortalClient(cert.cert),
    stop: () => daemon.stop(),
  };
}

/** The registry as the running daemon sees it now. */
export async function daemonRegistry(node: PortalNode) {
  return (await node.daemon.shared.registry()).current();
}

/** Form fields of a page's form whose action ends with `actionSuffix` (hidden and text inputs, first option of selects). */
export function formOf(html: string, actionSuffix: string): { action: string; fields: Record<string, string> } {
  const forms = [...html.matchAll(/<form method="post" action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)];
  const found = forms.find((m) => (m[1] ?? '').endsWith(actionSuffix));
  if (!found) throw new Error(`no form posting to …${actionSuffix}`);
  const fields: Record<string, string> = {};
  for (const m of (found[2] ?? '').matchAll(/<input type="(?:hidden|text)"[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g))
    fields[m[1] as string] = decode(m[2] as string);
  return { action: decode(found[1] as string), fields };
}

/** A page's HTML with its character references decoded (apostrophes arrive as &#39;). */
export function plain(html: string): string {
  return decode(html);
}

function decode(s: string): string {
  return s
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}
