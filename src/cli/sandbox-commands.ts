// `mss-sidecar sandbox …`: the ANS side simulated on loopback, its test PKI, list signing
// and the self-check `make sandbox` runs (docs/cli.md). The sandbox (sandbox/, node-forge…) is
// loaded only when a sandbox command runs, through its one door (./sandbox-door.ts).
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { MssError } from '../errors.js';
import type { CliContext } from './context.js';
import { openSandbox } from './sandbox-door.js';
import { action, EXIT } from './run-action.js';

function waitForStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

export function registerSandboxCommands(program: Command, ctx: () => CliContext): void {
  const sandbox = program
    .command('sandbox')
    .description('run the ANS side (liste blanche host…) on loopback until SIGINT/SIGTERM; prints "ready"')
    .option('--dir <dir>', 'sandbox directory (PKI, sandbox.json, config.yaml)', '.sandbox')
    .option('--fresh-pki', 'regenerate the test PKI even if DIR/pki exists')
    .action(
      action(async (opts: { dir: string; freshPki?: boolean }) => {
        const c = ctx();
        const { startSandbox } = await openSandbox();
        const running = await startSandbox({ dir: opts.dir, log: c.log, freshPki: opts.freshPki === true });
        c.log.info({ manifest: path.join(running.manifest.dir, 'sandbox.json'), endpoints: running.manifest.endpoints }, 'sandbox ready');
        ctx().out.write('ready\n');
        const signal = await waitForStopSignal();
        c.log.info({ signal }, 'sandbox stopping');
        await running.stop();
      }),
    );

  sandbox
    .command('pki')
    .description('generate a test PKI shaped like IGC-Santé (root, intermediate, operators, AUTH-CLI, ANS signer, CRLs)')
    .requiredOption('--out <dir>', 'output directory (DIR/trust holds the CA certificates, DIR/pki.json lists every file)')
    .action(
      action(async (opts: { out: string }) => {
        const started = Date.now();
        const { generateTestPki } = await openSandbox();
        const m = await generateTestPki(path.resolve(opts.out));
        ctx().out.write(`test PKI in ${m.dir} (${m.files.length} files, ${Date.now() - started} ms): trust=${m.trustDir} signer=${m.ansSigner.cert}\n`);
      }),
    );

  sandbox
    .command('sign-whitelist')
    .description('sign a liste blanche with the sandbox ANS signer (enveloped XMLDSig, Tableau 45)')
    .requiredOption('--pki <dir>', 'a `sandbox pki` output directory')
    .argument('<in>', 'unsigned list')
    .argument('<out>', 'signed list to write')
    .action(
      action(async (input: string, output: string, opts: { pki: string }) => {
        const { signWhitelist } = await openSandbox();
        let xml: string;
        try {
          xml = fs.readFileSync(input, 'utf8');
        } catch (err) {
          throw new MssError('USAGE_FILE', `cannot read ${input}: ${(err as Error).message}`, { file: input });
        }
        fs.writeFileSync(output, signWhitelist(xml, opts.pki));
        ctx().out.write(`signed ${output}\n`);
      }),
    );

  sandbox
    .command('selfcheck')
    .description('start the sandbox in a temporary directory and check it end to end (what `make sandbox` runs)')
    .option('--dir <dir>', 'use (and keep) this directory instead of a temporary one')
    .option('--keep', 'keep the temporary directory')
    .action(
      action(async (opts: { dir?: string; keep?: boolean }, cmd: Command) => {
        const { runSelfCheck } = await openSandbox();
        // `sandbox selfcheck --dir X`: commander hands --dir to the parent `sandbox` command
        // (which has one too, with a default); take it from there when given on the line.
        const dir = opts.dir ?? (cmd.parent?.getOptionValueSource('dir') === 'cli' ? (cmd.parent.opts() as { dir: string }).dir : undefined);
        const report = await runSelfCheck({ ...(dir ? { dir: path.resolve(dir) } : {}), keep: opts.keep === true });
        return report.failed === 0 ? EXIT.OK : EXIT.FAILED;
      }),
    );
}
