// `mss-sidecar sandbox --dir D`: the ANS side on loopback. Generates (or reuses) the test
// PKI in D/pki, starts every component of ./components.ts — the operators component writes
// a configuration file per simulated operator (D/config.yaml is operator A's) — and writes
// D/sandbox.json.
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../src/log.js';
import type { RunningComponent, SandboxComponent, SandboxContext } from './component.js';
import { sandboxComponents } from './components.js';
import { writeSandboxManifest, type SandboxEndpoints, type SandboxManifest, type SandboxOperator } from './manifest.js';
import { generateTestPki, loadPkiManifest, reusablePki, type PkiManifest } from './pki.js';

export interface SandboxOptions {
  dir: string;
  log: Logger;
  host?: string;
  /** Regenerate the PKI even if D/pki/pki.json exists. */
  freshPki?: boolean;
  components?: readonly SandboxComponent[];
}

export interface RunningSandbox {
  manifest: SandboxManifest;
  pki: PkiManifest;
  stop(): Promise<void>;
}

async function pkiFor(dir: string, fresh: boolean, log: Logger): Promise<PkiManifest> {
  const pkiDir = path.join(dir, 'pki');
  if (!fresh && fs.existsSync(path.join(pkiDir, 'pki.json'))) {
    const m = loadPkiManifest(pkiDir);
    if (reusablePki(m)) return m;
  }
  fs.rmSync(pkiDir, { recursive: true, force: true });
  const started = Date.now();
  const m = await generateTestPki(pkiDir);
  log.info({ dir: pkiDir, ms: Date.now() - started }, 'sandbox test PKI generated');
  return m;
}

function operatorsOf(dir: string, pki: PkiManifest): SandboxOperator[] {
  return pki.operators.map((op, i) => {
    const cli = pki.authCli.find((c) => c.id === op.id);
    return {
      id: op.id,
      fqdn: op.fqdn,
      dn: op.subject,
      domains: op.domains,
      cert: op.cert,
      key: op.key,
      ...(cli ? { authCliCert: cli.cert, authCliKey: cli.key } : {}),
      config: path.join(dir, i === 0 ? 'config.yaml' : `config-${op.id.toLowerCase()}.yaml`),
      stateDir: path.join(dir, 'state', op.id.toLowerCase()),
    };
  });
}

export async function startSandbox(opts: SandboxOptions): Promise<RunningSandbox> {
  const dir = path.resolve(opts.dir);
  fs.mkdirSync(dir, { recursive: true });
  const pki = await pkiFor(dir, opts.freshPki ?? false, opts.log);
  const operators = operatorsOf(dir, pki);
  // Each component sees the endpoints of those started before it (the operators need all).
  const endpoints: SandboxEndpoints = {};
  const ctx: SandboxContext = { dir, host: opts.host ?? '127.0.0.1', pki, operators, endpoints, log: opts.log };
  const running: Array<{ name: string; c: RunningComponent }> = [];
  const stop = async (): Promise<void> => {
    for (const { name, c } of running.reverse()) {
      try {
        await c.stop();
      } catch (err) {
        opts.log.error({ err, component: name }, 'sandbox component did not stop cleanly');
      }
    }
    running.length = 0;
  };
  const domains = new Set<string>();
  try {
    for (const component of opts.components ?? sandboxComponents) {
      const c = await component.start(ctx);
      running.push({ name: component.name, c });
      Object.assign(endpoints, c.endpoints ?? {});
      for (const d of c.domains ?? []) domains.add(d);
      opts.log.info({ component: component.name }, 'sandbox component started');
    }
    const manifest: SandboxManifest = {
      version: 1,
      startedAt: new Date().toISOString(),
      pid: process.pid,
      dir,
      pki: { dir: pki.dir, manifest: path.join(pki.dir, 'pki.json'), trustDir: pki.trustDir, crlDir: pki.crlDir, ansSignerCert: pki.ansSigner.cert },
      operators,
      config: (operators[0] as SandboxOperator).config,
      domains: [...domains].sort(),
      endpoints,
    };
    writeSandboxManifest(manifest);
    return { manifest, pki, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
