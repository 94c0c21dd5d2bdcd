// The portal in `mss-sidecar serve` (when `portal.enabled`): HTTPS with the TLS profile of
// EX_LPS_0200 and the operator certificate (or portal.certificate), on the daemon's shared
// state store (sessions: two nodes behind one name share them through Redis), registry
// (read per request; changes go through a worker and the registry is reloaded at once, so
// every service of the daemon sees them without restart), activity recorder and traces.
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/schema.js';
import type { Service } from '../daemon/service.js';
import type { SharedResources } from '../daemon/shared.js';
import { MssError } from '../errors.js';
import type { Logger } from '../log.js';
import { loadOptionsFrom } from '../registry/open.js';
import { RuntimeFields } from '../registry/runtime.js';
import type { StateStore } from '../store/store.js';
import { tracesDir } from '../traces/config.js';
import { buildPortalApp } from './app.js';
import { HistoryReader } from './history.js';
import { PscSignIn } from './psc-signin.js';
import { RegistryEditor } from './registry/editor.js';
import { CALLBACK_PATH, SIGNED_OUT_PATH } from './routes/sign-in.js';
import { SESSION_NAMESPACE } from './session/store.js';

const COOKIE_SECRET_KEY = 'portal:cookie-secret';
const HOUSEKEEPING_MS = 3_600_000;

export class PortalService implements Service {
  readonly name = 'portal';
  private app: FastifyInstance | undefined;
  private editor: RegistryEditor | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: Config,
    private readonly shared: SharedResources,
    private readonly log: Logger,
  ) {}

  /** The port it listens on (tests and the sandbox may ask for port 0). */
  get port(): number {
    return (this.app?.server.address() as AddressInfo | null)?.port ?? 0;
  }

  async start(): Promise<void> {
    const { config } = this;
    const portal = config.portal;
    const publicUrl = portal.publicUrl;
    if (!publicUrl || !portal.psc.clientSecretFile)
      throw new MssError('CONFIG_PORTAL', 'portal.publicUrl and portal.psc.clientSecretFile are required when portal.enabled is true');
    const certFile = portal.certificate ?? config.operator.certificate;
    const keyFile = portal.key ?? config.operator.key;
    const tls = {
      cert: readFile(certFile, portal.certificate ? 'portal.certificate' : 'operator.certificate'),
      key: readFile(keyFile, portal.key ? 'portal.key' : 'operator.key'),
    };
    const clientSecret = readFile(portal.psc.clientSecretFile, 'portal.psc.clientSecretFile').trim();
    if (!clientSecret) throw new MssError('CONFIG_PORTAL', `${portal.psc.clientSecretFile} (portal.psc.clientSecretFile) is empty`);
    const ca = readFile(portal.psc.caFile, 'portal.psc.caFile');

    const store = this.shared.store();
    const holder = await this.shared.registry();
    const sync = this.shared.registrySync();
    const editor = new RegistryEditor({
      file: config.registry.file,
      load: loadOptionsFrom(config),
      tracesDir: tracesDir(config.traces, config.state.dir),
      log: this.log,
      changed: () => holder.reload(),
      // Several nodes: each change is the cluster's only one, sent to the other nodes at once.
      ...(sync ? { around: <T>(change: () => Promise<T>) => sync.edit(change) } : {}),
    });
    this.editor = editor;
    try {
      const app = await buildPortalApp({
        config: portal,
        publicUrl,
        operatorName: config.operator.name,
        timeZone: config.operator.timeZone,
        tls,
        store,
        registry: () => holder.current(),
        runtime: new RuntimeFields(store),
        activity: await this.shared.activity(),
        traces: this.shared.traces(),
        editor,
        signIn: new PscSignIn({
          psc: portal.psc,
          clientSecret,
          ca,
          redirectUri: `${publicUrl}${CALLBACK_PATH}`,
          postLogoutRedirectUri: `${publicUrl}${SIGNED_OUT_PATH}`,
        }),
        history: new HistoryReader({ tracesDir: tracesDir(config.traces, config.state.dir), ...portal.history }),
        cookieSecret: await cookieSecret(store),
        log: this.log,
      });
      this.app = app;
      await app.listen({ host: portal.listen.host, port: portal.listen.port });
    } catch (err) {
      await this.stop();
      throw err;
    }
    // The embedded store removes expired keys (ended sessions) only when asked.
    if (store.backend === 'embedded') {
      this.timer = setInterval(
        () => void store.maintenance().catch((err: unknown) => this.log.warn({ err, namespace: SESSION_NAMESPACE }, 'portal: store housekeeping failed')),
        HOUSEKEEPING_MS,
      );
      this.timer.unref();
    }
    this.log.info({ url: publicUrl, host: portal.listen.host, port: this.port }, 'portal listening');
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const app = this.app;
    this.app = undefined;
    if (app) {
      app.server.closeAllConnections();
      await app.close();
    }
    await this.editor?.stop();
    this.editor = undefined;
  }
}

function readFile(file: string, key: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new MssError('CONFIG_PORTAL', `cannot read ${file} (${key}): ${(err as Error).message}`, { file, key });
  }
}

/** The session cookie's signing secret: made once, kept in the state store so every node signs alike. */
async function cookieSecret(store: StateStore): Promise<string> {
  await store.set(COOKIE_SECRET_KEY, randomBytes(32).toString('base64url'), { ifAbsent: true });
  const secret = await store.get(COOKIE_SECRET_KEY);
  if (!secret || secret.length < 32) throw new MssError('PORTAL_SECRET', `the state store has no usable ${COOKIE_SECRET_KEY}`);
  return secret;
}
