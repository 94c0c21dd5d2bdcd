// `mss-sidecar bal ...`: read and change the mailbox registry. Every change is checked,
// validated with the whole registry, written atomically to the YAML file (comments kept)
// and traced with the acting administrator (EX_SSI_5150) and the end user who asked.
import fs from 'node:fs';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { MssError } from '../errors.js';
import type { Config } from '../config/schema.js';
import { openStore } from '../store/open.js';
import type { BalInput } from '../registry/schema.js';
import type { Bal } from '../registry/registry.js';
import { formatProblem, type RegistryProblem } from '../registry/rules.js';
import { loadOptionsFrom, loadRegistryFrom, openTraceLog } from '../registry/open.js';
import * as ops from '../registry/operations.js';
import { entryOf, listMailboxes, mailboxDetails, publicView, type MailboxFilter } from '../registry/mailbox-view.js';
import { deleteMailboxWithMail } from '../lifecycle/delete-mailbox.js';
import { registryChange } from '../cluster/registry-change.js';
import type { CliContext } from './context.js';
import type { CliOutput } from './io.js';
import { cliMeans, resolveActor } from './actor.js';
import { action } from './run-action.js';

interface ActorOpt {
  actor?: string;
  json?: boolean;
}

export function registerBalCommands(program: Command, ctx: () => CliContext): void {
  const bal = program.command('bal').description('mailbox (BAL) registry: list, show and change mailboxes');
  registerBalReads(bal, ctx);
  registerBalStatusChanges(bal, ctx);
  registerBalDelegations(bal, ctx);
  registerBalHolders(bal, ctx);
}

/** check, list, show: the registry read. */
function registerBalReads(bal: Command, ctx: () => CliContext): void {
  bal
    .command('check')
    .description('validate the registry file (every problem with its line and requirement)')
    .option('--json', 'print JSON')
    .action(action((opts: { json?: boolean }) => checkRegistry(ctx(), opts.json)));

  bal
    .command('list')
    .description('list mailboxes')
    .option('--type <type>', 'PER, ORG, CAB or APP')
    .option('--status <status>', 'active, suspended or deleted')
    .option('--suspended', 'suspended mailboxes with their reasons, for the structure manager (RE_GBM_4430)')
    .option('--structure <idNat>', 'only this structure (type digit + number, e.g. 1130000001)')
    .option('--test', 'only test mailboxes')
    .option('--json', 'print JSON')
    .action(action((opts: MailboxFilter & { json?: boolean }) => printList(ctx(), listMailboxes(loadRegistryFrom(ctx().config()), opts), opts.json)));

  bal
    .command('show')
    .description('one mailbox: registry entry, who may use it, run-time state (last login, notices, publication)')
    .argument('<address>')
    .option('--json', 'print JSON')
    .action(action((address: string, opts: { json?: boolean }) => showMailbox(ctx(), address, opts.json)));
}

/** add, suspend, reactivate, delete, liste rouge: a mailbox's existence and status. */
function registerBalStatusChanges(bal: Command, ctx: () => CliContext): void {
  withActor(bal.command('add'))
    .description('create a mailbox (validated with the whole registry, traced)')
    .option('--from <file>', 'the entry as YAML or JSON (flags below override its fields)')
    .option('--address <address>')
    .option('--type <type>', 'PER, ORG, CAB or APP')
    .option('--created <date>', 'creation date (default: today)')
    .option('--test', 'a test mailbox (EX_GBM_4000)')
    .option('--id-nat <idNat>', 'PER: the holder IdNat (8+RPPS, 0+ADELI or internal id)')
    .option('--last-name <name>', 'PER: NomExercice')
    .option('--first-name <name>', 'PER: PrenomExercice')
    .option('--structure <type:id>', 'FINESS:130000001, SIREN:123456789 or SIRET:12345678900012')
    .option('--service <text>', 'ServiceRattachement')
    .option('--responsible-name <text>', 'ORG/APP: Annuaire Responsable text')
    .option('--responsible-id <idNat>', 'ORG: IdNat of the responsible, who may use the BAL')
    .option('--description <text>')
    .option('--phone <phone>')
    .option('--contact-email <email>', 'non-MSSanté address for lifecycle notices')
    .option('--liste-rouge', "the user's own choice of liste rouge (EX_PBA_5040)")
    .option('--homonym', 'EX_GBM_4311: a homonym on the domain justifies a suffix')
    .action(
      action((opts: Record<string, string | boolean | undefined> & ActorOpt) => {
        const entry = entryFromFlags(opts);
        return edit(ctx(), opts, (env) => ops.addMailbox(env, entry), `added ${String(entry.address).toLowerCase()}`);
      }),
    );

  withActor(bal.command('suspend'))
    .description('suspend a mailbox: no login, incoming mail refused, unpublished (RE_GBM_4420)')
    .argument('<address>')
    .requiredOption('--reason <text>', 'why (given to the structure manager, RE_GBM_4430)')
    .action(
      action((address: string, opts: { reason: string } & ActorOpt) =>
        edit(
          ctx(),
          opts,
          (env) => ops.suspendMailbox(env, address, opts.reason),
          `suspended ${address}; notify the structure manager with the reason (§5.5.2)`,
        ),
      ),
    );

  withActor(bal.command('reactivate'))
    .description('reactivate a suspended mailbox (RE_GBM_4440)')
    .argument('<address>')
    .action(action((address: string, opts: ActorOpt) => edit(ctx(), opts, (env) => ops.reactivateMailbox(env, address), `reactivated ${address}`)));

  withActor(bal.command('delete'))
    .description('delete a mailbox: its messages are removed with lifecycle.deleteCommand, its entry and traces are kept')
    .argument('<address>')
    .requiredOption('--reason <text>')
    .option('--no-purge-mail', 'do not run lifecycle.deleteCommand (the mail store is handled separately)')
    .action(action((address: string, opts: { reason: string; purgeMail: boolean } & ActorOpt) => deleteWithMail(ctx(), address, opts)));

  withActor(bal.command('set-liste-rouge'))
    .description("record the user's own liste rouge choice (EX_PBA_5040)")
    .argument('<address>')
    .argument('<on|off>')
    .option('--by <idNat>', 'the user who asked (holder, responsible or co-holder)')
    .action(
      action((address: string, onOff: string, opts: { by?: string } & ActorOpt) => {
        if (onOff !== 'on' && onOff !== 'off') throw new MssError('USAGE_LISTE_ROUGE', 'expected on or off');
        return edit(ctx(), opts, (env) => ops.setListeRouge(env, address, onOff === 'on', opts.by), `liste rouge ${onOff} for ${address}`);
      }),
    );
}

/** Delegations (EX_GBM_5413): granted, changed, revoked on the request of a manager of the mailbox. */
function registerBalDelegations(bal: Command, ctx: () => CliContext): void {
  withActor(bal.command('delegate'))
    .description('grant a delegation, on the request of the holder, responsible or a co-holder (EX_GBM_5413)')
    .argument('<address>')
    .requiredOption('--delegate <idNat>', 'the delegate (IdNat from the Annuaire Santé or a local directory)')
    .requiredOption('--by <idNat>', 'who grants it: the holder, the responsible or a co-holder (not a delegate)')
    .option('--for <idNat>', 'on whose behalf the delegate acts (default: --by)')
    .option('--name <text>', "the delegate's name, for people reading the registry")
    .action(
      action((address: string, opts: { delegate: string; by: string; for?: string; name?: string } & ActorOpt) =>
        edit(
          ctx(),
          opts,
          (env) =>
            ops.addDelegate(env, address, { idNat: opts.delegate, ...(opts.for ? { for: opts.for } : {}), ...(opts.name ? { name: opts.name } : {}) }, opts.by),
          `${opts.delegate} is now a delegate of ${address}`,
        ),
      ),
    );

  withActor(bal.command('delegate-change'))
    .description("change a delegation: the delegate's name or on whose behalf they act (EX_GBM_5413)")
    .argument('<address>')
    .requiredOption('--delegate <idNat>')
    .requiredOption('--by <idNat>', 'who asked: the holder, the responsible or a co-holder (not a delegate)')
    .option('--for <idNat>', 'the holder, responsible or co-holder the delegate now acts for')
    .option('--name <text>', "the delegate's name ('' removes it)")
    .action(
      action((address: string, opts: { delegate: string; by: string; for?: string; name?: string } & ActorOpt) =>
        edit(
          ctx(),
          opts,
          (env) =>
            ops.changeDelegate(
              env,
              address,
              opts.delegate,
              { ...(opts.for ? { for: opts.for } : {}), ...(opts.name !== undefined ? { name: opts.name } : {}) },
              opts.by,
            ),
          `delegation of ${opts.delegate} on ${address} changed`,
        ),
      ),
    );

  withActor(bal.command('revoke'))
    .description('remove a delegation (EX_GBM_5413)')
    .argument('<address>')
    .requiredOption('--delegate <idNat>')
    .option('--by <idNat>', 'who asked: the holder, the responsible or a co-holder')
    .action(
      action((address: string, opts: { delegate: string; by?: string } & ActorOpt) =>
        edit(ctx(), opts, (env) => ops.revokeDelegate(env, address, opts.delegate, opts.by), `${opts.delegate} is no longer a delegate of ${address}`),
      ),
    );
}

/** Co-holders, the responsible, the description (EX_GBM_5410), an IdNat the Annuaire corrected (EX_PBA_5100). */
function registerBalHolders(bal: Command, ctx: () => CliContext): void {
  const co = bal.command('coholder').description('co-holders of an organisational mailbox (EX_GBM_5410)');
  withActor(co.command('add'))
    .argument('<address>')
    .requiredOption('--id-nat <idNat>')
    .requiredOption('--last-name <name>')
    .requiredOption('--first-name <name>')
    .option('--by <idNat>', 'the responsible or co-holder who asked')
    .action(
      action((address: string, opts: { idNat: string; lastName: string; firstName: string; by?: string } & ActorOpt) =>
        edit(
          ctx(),
          opts,
          (env) => ops.addCoHolder(env, address, { idNat: opts.idNat, lastName: opts.lastName, firstName: opts.firstName }, opts.by),
          `${opts.idNat} is now a co-holder of ${address}`,
        ),
      ),
    );
  withActor(co.command('remove'))
    .argument('<address>')
    .requiredOption('--id-nat <idNat>')
    .option('--by <idNat>', 'the responsible or co-holder who asked')
    .action(
      action((address: string, opts: { idNat: string; by?: string } & ActorOpt) =>
        edit(ctx(), opts, (env) => ops.removeCoHolder(env, address, opts.idNat, opts.by), `${opts.idNat} is no longer a co-holder of ${address}`),
      ),
    );

  withActor(bal.command('set-responsible'))
    .description('change the Responsable opérationnel (EX_GBM_5410)')
    .argument('<address>')
    .requiredOption('--id-nat <idNat>', 'CAB: a co-holder; ORG/APP: the new responsible')
    .option('--name <text>', 'ORG/APP: the Annuaire Responsable text')
    .option('--by <idNat>', 'the responsible or co-holder who asked')
    .action(
      action((address: string, opts: { idNat: string; name?: string; by?: string } & ActorOpt) =>
        edit(
          ctx(),
          opts,
          (env) => ops.setResponsible(env, address, { idNat: opts.idNat, ...(opts.name ? { name: opts.name } : {}) }, opts.by),
          `${opts.idNat} is now the responsible of ${address}`,
        ),
      ),
    );

  withActor(bal.command('set-description'))
    .description('change the description (EX_GBM_5410)')
    .argument('<address>')
    .argument('<text>')
    .option('--by <idNat>', 'the responsible or co-holder who asked')
    .action(
      action((address: string, text: string, opts: { by?: string } & ActorOpt) =>
        edit(ctx(), opts, (env) => ops.setDescription(env, address, text, opts.by), `description of ${address} changed`),
      ),
    );

  withActor(bal.command('correct-idnat'))
    .description('apply a national identifier corrected by the Annuaire report (EX_PBA_5100)')
    .argument('<address>')
    .requiredOption('--from <idNat>')
    .requiredOption('--to <idNat>')
    .action(
      action((address: string, opts: { from: string; to: string } & ActorOpt) =>
        edit(ctx(), opts, (env) => ops.correctIdNat(env, address, opts.from, opts.to, { source: 'cli' }), `${opts.from} replaced by ${opts.to} in ${address}`),
      ),
    );
}

function withActor(cmd: Command): Command {
  return cmd.option('--actor <name>', 'the administrator acting (default: the Unix user; recorded in the traces)').option('--json', 'print JSON');
}

function checkRegistry(c: CliContext, json?: boolean): void {
  const reg = loadRegistryFrom(c.config());
  if (json) return printJson(c.out, { ok: true, file: reg.file, mailboxes: reg.size, warnings: reg.warnings });
  c.out.write(`registry ${reg.file} is valid: ${reg.size} mailboxes\n`);
  printWarnings(c.err, reg.warnings, reg.file);
}

function printList(c: CliContext, list: readonly Bal[], json?: boolean): void {
  if (json) return printJson(c.out, list.map(publicView));
  for (const b of list) {
    const flags = [b.test ? 'test' : '', b.listeRouge ? 'liste-rouge' : '', b.autoreply ? 'auto-reply' : ''].filter(Boolean).join(',');
    const extra =
      b.status === 'suspended' && b.suspension
        ? `  since ${b.suspension.at}: ${b.suspension.reason}`
        : b.status === 'deleted' && b.deletion
          ? `  on ${b.deletion.at}`
          : '';
    c.out.write(`${b.address}\t${b.type}\t${b.status}\t${flags || '-'}${extra}\n`);
  }
  c.err.write(`${list.length} mailbox${list.length === 1 ? '' : 'es'}\n`);
}

async function showMailbox(c: CliContext, address: string, json?: boolean): Promise<void> {
  const cfg = c.config();
  const bal = ops.need(loadRegistryFrom(cfg), address);
  const store = openStore(cfg.state);
  try {
    const d = await mailboxDetails(bal, store);
    const b = d.bal;
    if (json)
      return printJson(c.out, { ...publicView(b), entry: entryOf(b), runtime: d.runtime, notices: d.notices, publication: d.publication, users: d.users });
    const pub = d.publication;
    const rt = d.runtime;
    c.out.write(`${b.address} (${b.type}${b.test ? ', test' : ''}) — ${b.status}, created ${b.created}\n`);
    c.out.write(
      `  Annuaire: ${pub.published ? 'published' : 'not published'}${pub.listeRouge ? `, liste rouge (${pub.listeRougeOrigin === 'user' ? "user's choice" : 'depublished for inactivity'})` : ''}\n`,
    );
    c.out.write(
      `  last login: ${rt.lastLogin?.toISOString() ?? 'never'}${rt.lastLoginBy ? ` by ${rt.lastLoginBy}` : ''}; last exchange: ${rt.lastExchange?.toISOString() ?? 'none'}\n`,
    );
    for (const u of d.users) c.out.write(`  ${u.role}: ${u.idNat}${u.name ? ` ${u.name}` : ''}${u.for ? ` (for ${u.for})` : ''}\n`);
    if (b.suspension) c.out.write(`  suspended ${b.suspension.at}: ${b.suspension.reason}\n`);
    if (b.deletion) c.out.write(`  deleted ${b.deletion.at}${b.deletion.reason ? `: ${b.deletion.reason}` : ''}\n`);
    for (const [k, v] of Object.entries(d.notices)) c.out.write(`  notice ${k}: ${JSON.stringify(v)}\n`);
  } finally {
    await store.close();
  }
}

/** EX_GBM_6010: the mail store emptied (unless --no-purge-mail), then the entry marked deleted (lifecycle/delete-mailbox.ts). */
async function deleteWithMail(c: CliContext, address: string, opts: { reason: string; purgeMail: boolean } & ActorOpt): Promise<void> {
  const { cfg, env } = editEnv(c, opts);
  const store = cfg.state.redis ? openStore(cfg.state) : undefined;
  try {
    const bal = ops.need(loadRegistryFrom(cfg), address);
    if (bal.status === 'deleted') throw new MssError('REGISTRY_STATE', `${bal.address} is already deleted`, { bal: bal.address });
    const r = await deleteMailboxWithMail({ edit: env, store, stateDir: cfg.state.dir, config: cfg.lifecycle }, bal, opts.reason, {
      purgeMail: opts.purgeMail,
    });
    report(c, cfg, r, `deleted ${bal.address}`, opts.json);
  } finally {
    env.traces.close();
    await store?.close();
  }
}

function editEnv(c: CliContext, opts: ActorOpt): { cfg: Config; env: ops.EditEnv } {
  const cfg = c.config();
  return { cfg, env: { file: cfg.registry.file, load: loadOptionsFrom(cfg), traces: openTraceLog(cfg), actor: resolveActor(opts.actor), ...cliMeans() } };
}

async function edit(c: CliContext, opts: ActorOpt, fn: (env: ops.EditEnv) => ops.ChangeResult, done: string): Promise<void> {
  const { cfg, env } = editEnv(c, opts);
  // Several nodes: the change is made on the cluster's registry and sent to the others.
  const store = cfg.state.redis ? openStore(cfg.state) : undefined;
  try {
    report(c, cfg, await registryChange(store, cfg.registry.file, cfg.state.dir, () => fn(env)), done, opts.json);
  } finally {
    env.traces.close();
    await store?.close();
  }
}

function report(c: CliContext, cfg: Config, r: ops.ChangeResult, done: string, json?: boolean): void {
  if (json) return printJson(c.out, { ok: true, message: done, bal: r.bal ? publicView(r.bal) : undefined, warnings: r.warnings });
  c.out.write(`${done}\n`);
  printWarnings(c.err, r.warnings, cfg.registry.file);
}

function printWarnings(err: CliOutput, warnings: readonly RegistryProblem[], file: string): void {
  for (const w of warnings) err.write(`warning: ${formatProblem(w, file)}\n`);
}

function printJson(out: CliOutput, value: unknown): void {
  out.write(`${JSON.stringify(value, null, 2)}\n`);
}

function entryFromFlags(opts: Record<string, string | boolean | undefined>): BalInput {
  let entry: Record<string, unknown> = {};
  if (typeof opts.from === 'string') {
    const text = fs.readFileSync(opts.from, 'utf8');
    const v = parseYaml(text) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new MssError('USAGE_ENTRY_FILE', `${opts.from} must hold one mailbox entry (a mapping)`);
    entry = v as Record<string, unknown>;
  }
  const s = (k: string): string | undefined => (typeof opts[k] === 'string' ? (opts[k] as string) : undefined);
  if (s('address')) entry.address = s('address');
  if (s('type')) entry.type = s('type')?.toUpperCase();
  entry.created ??= s('created') ?? new Date().toISOString().slice(0, 10);
  if (s('created')) entry.created = s('created');
  if (opts.test) entry.test = true;
  if (opts.listeRouge) entry.listeRouge = true;
  if (opts.homonym) entry.homonym = true;
  if (s('idNat') || s('lastName') || s('firstName'))
    entry.holder = {
      ...(entry.holder as object),
      ...(s('idNat') ? { idNat: s('idNat') } : {}),
      ...(s('lastName') ? { lastName: s('lastName') } : {}),
      ...(s('firstName') ? { firstName: s('firstName') } : {}),
    };
  const structure = s('structure');
  if (structure) {
    const m = /^(FINESS|SIREN|SIRET):(.+)$/i.exec(structure);
    if (!m) throw new MssError('USAGE_STRUCTURE', '--structure expects TYPE:ID, e.g. FINESS:130000001');
    entry.structure = { type: m[1]?.toUpperCase(), id: m[2] };
  }
  if (s('service')) entry.service = s('service');
  if (s('responsibleName') || s('responsibleId'))
    entry.responsible = {
      ...(entry.responsible as object),
      ...(s('responsibleId') ? { idNat: s('responsibleId') } : {}),
      ...(s('responsibleName') ? { name: s('responsibleName') } : {}),
    };
  if (s('description')) entry.description = s('description');
  if (s('phone')) entry.phone = s('phone');
  if (s('contactEmail')) entry.contact = { ...(entry.contact as object), email: s('contactEmail') };
  if (!entry.address) throw new MssError('USAGE_ADDRESS', 'the new mailbox needs --address (or address: in --from)');
  return entry as BalInput;
}
