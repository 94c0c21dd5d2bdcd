// Sandbox component: operators A and B of the test PKI, each with its inbound and outbound
// gates in front of a real Postfix (or an embedded sink when Postfix is not installed or
// the sandbox does not run as root), and a loopback DNS responder for their MX records.
import fs from 'node:fs';
import path from 'node:path';
import type { SandboxComponent } from './component.js';
import { startGateWorld } from './gate-world.js';
import type { SandboxGates } from './manifest.js';
import { realPostfixAvailable } from './operator-node.js';
import { sandboxList } from './whitelist-component.js';

export const gatesComponent: SandboxComponent = {
  name: 'gates',
  async start(ctx) {
    const postfix = realPostfixAvailable();
    // Postfix's workers run as `postfix`: they must traverse the sandbox directory (keys
    // inside stay 0600).
    if (postfix) fs.chmodSync(ctx.dir, 0o755);
    const world = await startGateWorld({ dir: path.join(ctx.dir, 'gates'), pki: ctx.pki, list: sandboxList(ctx.pki).signed, log: ctx.log, postfix });
    const operators: SandboxGates['operators'] = {};
    for (const [id, node] of world.nodes) {
      operators[id] = {
        domains: node.op.domains,
        gateIn: node.config.gates.in.listen,
        gateOut: node.config.gates.out.listen,
        ...(node.postfix ? { inject: { host: '127.0.0.1', port: node.ports.inject } } : {}),
        cert: node.op.cert,
        key: node.op.key,
        mailDir: node.postfix ? node.postfix.mailDir : (node.sink?.dir ?? ''),
        config: node.configFile,
      };
    }
    const pair = (c: { cert: string; key: string }) => ({ cert: c.cert, key: c.key });
    const gates: SandboxGates = {
      mta: postfix ? 'postfix' : 'sink',
      dns: world.dns.address,
      operators,
      refused: { rogue: pair(ctx.pki.rogue), expired: pair(ctx.pki.expired), revoked: pair(ctx.pki.revoked) },
    };
    return { endpoints: { gates }, stop: () => world.stop() };
  },
};
