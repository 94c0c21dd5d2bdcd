// Sandbox component: operators A and B of the test PKI, each deployed as a hospital deploys
// mss-sidecar — one Postfix and one Dovecot with the shipped pieces, and one daemon (the
// gates, the submission milter, the API LPS) running the operator's configuration file,
// D/config.yaml for A (the operator this machine plays) and D/config-b.yaml for B — with a
// loopback DNS responder for their MX. A's registry is the one the Annuaire component
// publishes. Without Postfix, Dovecot (with dovecot-auth-lua) or root, embedded sinks stand in
// for Postfix behind the gates, and sandbox.json says what is missing.
import fs from 'node:fs';
import path from 'node:path';
import { SANDBOX_MAILBOXES_A } from './annuaire/registry-a.js';
import type { SandboxComponent } from './component.js';
import type { ListenSpec } from '../src/config/listen-spec.js';
import type { SandboxOperatorEndpoints, SandboxOperators } from './manifest.js';
import { operatorMtasMissing } from './operator-mtas.js';
import { startOperatorWorld } from './operator-world.js';
import { setUpSandboxPortal, type SandboxPortal } from './portal-setup.js';
import { sandboxServices } from './sandbox-config.js';
import { sandboxList } from './whitelist-component.js';

/** The manifest's form of the outbound gate's endpoint. */
function gateOutEndpoint(e: ListenSpec): SandboxOperatorEndpoints['gateOut'] {
  return e.kind === 'unix' ? { path: e.path } : { host: e.host, port: e.port };
}

/** The operators of the test PKI (or only `ids`: tests that need one operator). */
export function operatorsComponentOf(ids?: readonly string[]): SandboxComponent {
  return {
    name: 'operators',
    async start(ctx) {
      const missing = operatorMtasMissing();
      const mta = missing.length === 0 ? 'real' : 'none';
      // Postfix's and Dovecot's workers (users postfix, dovecot, mail) traverse D to reach their
      // directories; traversal only, the PKI's keys stay 0600.
      if (mta === 'real') fs.chmodSync(ctx.dir, fs.statSync(ctx.dir).mode | 0o011);
      const psc = ctx.endpoints.psc;
      const registryA = ctx.endpoints.annuaire?.registries.A;
      // Operator A runs the professionals' portal, signing in with the sandbox PSC.
      const stateA = ctx.operators.find((o) => o.id === 'A')?.stateDir;
      const portal: SandboxPortal | undefined = psc && stateA ? await setUpSandboxPortal(psc, ctx.pki, stateA, ctx.host) : undefined;
      const world = await startOperatorWorld({
        dir: path.join(ctx.dir, 'operators'),
        pki: ctx.pki,
        list: sandboxList(ctx.pki).signed,
        log: ctx.log,
        mta,
        ...(ids ? { operators: ids } : {}),
        ...(psc ? { psc: { issuer: psc.issuer, ca: psc.ca, clientId: psc.clientId } } : {}),
        files: (op) => {
          const files = ctx.operators.find((o) => o.id === op.id);
          return {
            ...(files ? { configFile: files.config, stateDir: files.stateDir } : {}),
            ...(op.id === 'A' && registryA ? { registry: { file: registryA, mailboxes: SANDBOX_MAILBOXES_A } } : {}),
          };
        },
        configure: (op, c) => {
          sandboxServices(c, ctx.endpoints);
          if (op.id === 'A' && portal) c.portal = portal.config;
        },
      });
      const nodes: SandboxOperators['nodes'] = {};
      for (const [id, node] of world.nodes) {
        const local = (port: number) => ({ host: '127.0.0.1', port });
        nodes[id] = {
          domains: node.op.domains,
          config: node.configFile,
          cert: node.op.cert,
          key: node.op.key,
          gateIn: node.config.gates.in.listen,
          gateOut: gateOutEndpoint(node.config.gates.out.listen.endpoint),
          ...(node.postfix ? { inject: local(node.ports.inject) } : {}),
          ...(node.config.auth?.front.enabled
            ? {
                lps: {
                  imap: node.ports.imap,
                  submission: node.ports.submission,
                  authCliImap: node.ports.authCliImap,
                  authCliSubmission: node.ports.authCliSubmission,
                },
              }
            : {}),
          mailboxes: node.mailboxes,
          mailDir: node.mailDir,
        };
      }
      const pair = (c: { cert: string; key: string }) => ({ cert: c.cert, key: c.key });
      const operators: SandboxOperators = {
        mta,
        ...(missing.length > 0 ? { unavailable: `needs ${missing.join(', ')}` } : {}),
        dns: world.dns.address,
        nodes,
        refused: { rogue: pair(ctx.pki.rogue), expired: pair(ctx.pki.expired), revoked: pair(ctx.pki.revoked) },
      };
      return {
        endpoints: { operators, ...(portal ? { portal: { url: portal.url, operator: 'A', clientId: portal.clientId } } : {}) },
        stop: () => world.stop(),
      };
    },
  };
}

export const operatorsComponent: SandboxComponent = operatorsComponentOf();
