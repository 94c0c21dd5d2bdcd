// The lifecycle job end to end: the real CLI with --now, a real SMTP server on loopback
// receiving the notices, shell commands standing in for doveadm.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { stringify } from 'yaml';
import { EmbeddedStore } from '../../src/store/embedded.js';
import { RuntimeFields } from '../../src/registry/runtime.js';
import { verifyTraces } from '../../src/traces/verify.js';
import { runCliAsync } from '../helpers/cli.js';
import { DOMAIN, org, per, registryYaml } from '../helpers/registry.js';
import { bodyOf, headerOf, startSmtpSink } from '../helpers/smtp-sink.js';
import { tmpDir } from '../helpers/tmp.js';

const sink = await startSmtpSink();
after(() => sink.close());

interface Env {
  dir: string;
  config: string;
  registry: string;
  commandLog: string;
  stateDir: string;
}

/**
 * `lifecycle` extra settings; by default logins are known since 2020 (a site with history),
 * so that the dates below are what the rules alone give.
 */
function setup(
  mailboxes: Array<Record<string, unknown>>,
  notices?: Record<string, unknown>,
  lifecycle: Record<string, unknown> = { activityKnownSince: '2020-01-01' },
): Env {
  const dir = tmpDir('mss-lifecycle-');
  const registry = path.join(dir, 'registry.yaml');
  fs.writeFileSync(registry, registryYaml(mailboxes));
  const commandLog = path.join(dir, 'commands.log');
  const stateDir = path.join(dir, 'state');
  const config = path.join(dir, 'config.yaml');
  const record = (what: string) => ['/bin/sh', '-c', `echo "${what} $0" >> ${commandLog}`, '{address}'];
  fs.writeFileSync(
    config,
    stringify({
      operator: { name: 'CH Test', domains: [DOMAIN], structureId: '1130000001', certificate: 'op.crt', key: 'op.key', timeZone: 'Europe/Paris' },
      trust: { dir: 'trust' },
      state: { dir: 'state' },
      registry: { file: 'registry.yaml' },
      lifecycle: {
        notices: notices ?? { via: 'smtp', from: 'Messagerie CH Test <ne-pas-repondre@ch-test.example.org>', smtp: { host: '127.0.0.1', port: sink.port } },
        deleteCommand: record('delete'),
        purgeAutoreplyCommand: record('purge'),
        autoreplyCheckCommand: record('check'),
        ...lifecycle,
      },
    }),
  );
  return { dir, config, registry, commandLog, stateDir };
}

async function run(env: Env, now: string, ...extra: string[]) {
  const r = await runCliAsync(['--config', env.config, 'lifecycle', 'run', '--now', now, '--json', ...extra]);
  let report: { ok: boolean; actions: Array<{ action: string; bal: string; notice?: string; ok: boolean; scheduledFor?: string; to?: string }> } | undefined;
  try {
    report = JSON.parse(r.stdout);
  } catch {
    assert.fail(`no JSON report (status ${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
  return { ...r, report: report ?? { ok: false, actions: [] } };
}

async function withStore<T>(env: Env, fn: (rt: RuntimeFields) => Promise<T>): Promise<T> {
  const store = new EmbeddedStore(path.join(env.stateDir, 'store'));
  try {
    return await fn(new RuntimeFields(store));
  } finally {
    await store.close();
  }
}

const commands = (env: Env): string[] => (fs.existsSync(env.commandLog) ? fs.readFileSync(env.commandLog, 'utf8').trim().split('\n') : []);
const mailsTo = (to: string) => sink.messages.filter((m) => m.to.includes(to));

test('EX_GBM_4440: notice 15 days before, depublication after more than 60 days without login, nothing repeated on a re-run; a login re-publishes', async () => {
  const contact = 'jean.dupont.4440@example.org';
  const env = setup([per('jean.dupont', 'Jean', 'Dupont', '810000000101', { created: '2023-01-01', contact: { email: contact } })]);
  const bal = `jean.dupont@${DOMAIN}`;
  await withStore(env, (rt) => rt.setLastLogin(bal, new Date('2025-03-01T10:00:00Z')));

  // Day 45 after the last login: too early for the notice (60 - 15 days not yet reached).
  let r = await run(env, '2025-04-15T03:00:00Z');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(
    r.report.actions.map((a) => a.action),
    ['purge'],
  );
  assert.equal(mailsTo(contact).length, 0);

  r = await run(env, '2025-04-16T03:00:00Z');
  assert.equal(r.status, 0, r.stderr);
  const notice = r.report.actions.find((a) => a.action === 'notice');
  assert.deepEqual(
    { notice: notice?.notice, bal: notice?.bal, to: notice?.to, at: notice?.scheduledFor },
    { notice: 'depublish', bal, to: contact, at: '2025-05-01T03:00:00.000Z' },
  );
  const [mail] = mailsTo(contact);
  assert.ok(mail, 'the notice reached the SMTP server');
  assert.match(headerOf(mail.data, 'Subject') ?? '', /dépubliée pour cause d'inactivité/);
  const body = bodyOf(mail.data);
  assert.match(body, /« dépublié pour cause d'inactivité » à partir du 01\/05\/2025/);
  assert.match(body, /aucune connexion depuis le 01\/03\/2025/);
  assert.doesNotMatch(body, /liste rouge/i, 'the notice does not speak of liste rouge (§5.6)');
  assert.equal(mail.from, 'ne-pas-repondre@ch-test.example.org');

  // Same day again: nothing new (no second notice, no second purge).
  r = await run(env, '2025-04-16T09:00:00Z');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.report.actions, []);
  assert.equal(mailsTo(contact).length, 1);

  // Day 60 (not "more than 60 days" at 03:00, and the notice is less than 15 days old): nothing yet.
  r = await run(env, '2025-04-30T03:00:00Z');
  assert.deepEqual(
    r.report.actions.filter((a) => a.bal === bal),
    [],
  );
  r = await run(env, '2025-05-01T03:00:00Z', '--dry-run');
  assert.deepEqual(
    r.report.actions.filter((a) => a.bal === bal).map((a) => a.action),
    ['depublish'],
  );
  assert.equal((await withStore(env, (rt) => rt.get(bal))).depublishedAt, undefined, 'a dry run changes nothing');
  r = await run(env, '2025-05-01T03:00:00Z');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(
    r.report.actions.filter((a) => a.bal === bal).map((a) => a.action),
    ['depublish'],
  );
  assert.equal((await withStore(env, (rt) => rt.get(bal))).depublishedAt?.toISOString(), '2025-05-01T03:00:00.000Z');
  const show = await runCliAsync(['--config', env.config, 'bal', 'show', bal, '--json']);
  assert.deepEqual(JSON.parse(show.stdout).publication, { published: true, listeRouge: true, listeRougeOrigin: 'inactivity' });
  r = await run(env, '2025-05-01T04:00:00Z');
  assert.deepEqual(r.report.actions, [], 'idempotent');
  assert.equal(commands(env).filter((l) => l.startsWith('purge')).length, 4, 'one purge per day run (15/04, 16/04, 30/04, 01/05)');
  assert.equal(mailsTo(contact).length, 1);

  // A later login removes the operator's liste rouge (through the auth part's recordLogin).
  const { Activity } = await import('../../src/registry/activity.js');
  const { loadRegistry } = await import('../../src/registry/load.js');
  const { TraceLog } = await import('../../src/traces/trace-log.js');
  const reg = loadRegistry(env.registry, { domains: [DOMAIN], finessRegistered: true });
  const traces = new TraceLog(path.join(env.stateDir, 'traces'));
  await withStore(env, async (rt) => {
    const res = await new Activity({ registry: () => reg, runtime: rt, traces, timeZone: 'Europe/Paris' }).recordLogin(bal, new Date('2025-05-03T08:00:00Z'), {
      authType: 'PSC/XOAUTH2',
      identity: '810000000101',
      service: 'imap',
    });
    assert.deepEqual(res, { republished: true });
  });
  traces.close();
  const verify = await runCliAsync(['--config', env.config, 'traces', 'verify']);
  assert.equal(verify.status, 0, verify.stdout);
});

test('EX_GBM_6010: notice two months before, deletion after a year without authentication (counted from creation when never logged in), traces kept', async () => {
  const contact = 'paul.martin.6010@example.org';
  const env = setup([
    per('paul.martin', 'Paul', 'Martin', '810000000201', { created: '2024-01-15', contact: { email: contact } }),
    org('secretariat', { created: '2024-01-15' }), // no contact: no notice, so no deletion
  ]);
  const bal = `paul.martin@${DOMAIN}`;
  let r = await run(env, '2024-11-14T03:00:00Z');
  assert.deepEqual(
    r.report.actions.filter((a) => a.bal === bal),
    [],
  );
  r = await run(env, '2024-11-15T03:00:00Z');
  assert.equal(r.status, 1, 'a BAL that cannot be notified is reported as a failure');
  const n = r.report.actions.find((a) => a.bal === bal);
  assert.deepEqual([n?.action, n?.notice, n?.scheduledFor], ['notice', 'delete', '2025-01-15T03:00:00.000Z']);
  const blocked = r.report.actions.find((a) => a.bal === `secretariat@${DOMAIN}`);
  assert.deepEqual([blocked?.action, blocked?.notice, blocked?.ok], ['blocked', 'delete', false]);
  const [mail] = mailsTo(contact);
  assert.ok(mail);
  assert.match(headerOf(mail.data, 'Subject') ?? '', /sera supprimée faute de connexion/);
  assert.match(bodyOf(mail.data), /supprimée définitivement, avec ses messages et leurs pièces jointes, à partir du 15\/01\/2025/);
  assert.match(bodyOf(mail.data), /aucune authentification depuis le 15\/01\/2024/);

  r = await run(env, '2024-12-31T03:00:00Z');
  assert.deepEqual(
    r.report.actions.filter((a) => a.bal === bal).map((a) => `${a.action}:${a.notice}`),
    ['notice:depublish'],
  );
  r = await run(env, '2025-01-14T03:00:00Z');
  assert.deepEqual(
    r.report.actions.filter((a) => a.bal === bal),
    [],
    'not a day early',
  );
  r = await run(env, '2025-01-15T03:00:00Z');
  assert.deepEqual(
    r.report.actions.filter((a) => a.bal === bal).map((a) => a.action),
    ['delete'],
  );
  assert.ok(commands(env).includes(`delete ${bal}`), 'the configured delete command ran for the BAL');
  const show = JSON.parse((await runCliAsync(['--config', env.config, 'bal', 'show', bal, '--json'])).stdout);
  assert.equal(show.status, 'deleted');
  assert.equal(show.deletion.at, '2025-01-15T03:00:00.000Z');
  r = await run(env, '2025-01-15T05:00:00Z');
  assert.deepEqual(
    r.report.actions.filter((a) => a.bal === bal),
    [],
  );
  assert.equal(commands(env).filter((l) => l.startsWith('delete')).length, 1);
  assert.ok(!commands(env).some((l) => l.includes('secretariat')), 'never deleted without a notice');
  const v = await verifyTraces(path.join(env.stateDir, 'traces'));
  assert.deepEqual(v.problems, []);
  const all = fs
    .readdirSync(path.join(env.stateDir, 'traces', 'functional'), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => fs.readFileSync(path.join(e.parentPath, e.name), 'utf8'))
    .join('');
  assert.match(all, /"action":"notice\.delete"/);
  assert.match(all, /"action":"bal\.delete".*"actor":\{"id":"admin:/);
});

test('EX_GBM_4030: the auto-reply BAL is purged once a day through the configured command', async () => {
  const env = setup([]);
  await run(env, '2025-06-01T03:00:00Z');
  await run(env, '2025-06-01T15:00:00Z');
  await run(env, '2025-06-02T03:00:00Z');
  assert.deepEqual(commands(env), [
    `purge reponse.automatique-test@${DOMAIN}`,
    `check reponse.automatique-test@${DOMAIN}`,
    `purge reponse.automatique-test@${DOMAIN}`,
    `check reponse.automatique-test@${DOMAIN}`,
  ]);
});

test('EX_GBM_4440: a notice the SMTP server refuses is not remembered and is sent on the next run', async () => {
  const contact = 'refused.4440@example.org';
  const env = setup([per('anne.roux', 'Anne', 'Roux', '810000000301', { created: '2023-01-01', contact: { email: contact } })]);
  sink.failing = true;
  let r: Awaited<ReturnType<typeof run>>;
  try {
    r = await run(env, '2025-06-01T03:00:00Z');
  } finally {
    sink.failing = false;
  }
  assert.equal(r.status, 1);
  assert.match(JSON.stringify(r.report), /LIFECYCLE_NOTICE_FAILED/);
  assert.equal(mailsTo(contact).length, 0);
  r = await run(env, '2025-06-01T04:00:00Z');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(mailsTo(contact).length, 2, 'both notices (deletion and depublication) once the relay accepts');
});

test('EX_GBM_4440: notices `via: command` run the command with {address} {email} {kind} {date} and the notice on stdin; a failing command leaves the notice unsent, sent on the next run', async () => {
  const dir = tmpDir('mss-notify-');
  const calls = path.join(dir, 'calls.log');
  const failFlag = path.join(dir, 'fail');
  const script = path.join(dir, 'notify.sh');
  // Records each call's argv (one line, fields separated by |) and, when it succeeds, its stdin.
  fs.writeFileSync(
    script,
    `#!/bin/sh
n=$(cat "${calls}" 2>/dev/null | wc -l)
(IFS='|'; echo "$*") >> "${calls}"
if [ -e "${failFlag}" ]; then cat > /dev/null; echo "SMS gateway down" >&2; exit 1; fi
cat > "${dir}/notice-$n.txt"
`,
    { mode: 0o755 },
  );
  const contact = 'claire.petit.cmd@example.org';
  const env = setup([per('claire.petit', 'Claire', 'Petit', '810000000401', { created: '2023-01-01', contact: { email: contact } })], {
    via: 'command',
    command: [script, '{address}', '{email}', '{kind}', '{date}'],
  });
  const bal = `claire.petit@${DOMAIN}`;
  await withStore(env, (rt) => rt.setLastLogin(bal, new Date('2025-03-01T10:00:00Z')));
  const lines = () => (fs.existsSync(calls) ? fs.readFileSync(calls, 'utf8').trim().split('\n') : []);
  const expectedArgs = `${bal}|${contact}|depublish|2025-05-01`;

  fs.writeFileSync(failFlag, '');
  let r = await run(env, '2025-04-16T03:00:00Z');
  assert.equal(r.status, 1, 'a failed notice fails the run');
  assert.match(JSON.stringify(r.report), /LIFECYCLE_NOTICE_FAILED.*exit 1.*SMS gateway down/);
  assert.deepEqual(lines(), [expectedArgs], 'the command was called once, with the placeholders filled');
  assert.equal(fs.existsSync(path.join(dir, 'notice-0.txt')), false);

  fs.rmSync(failFlag);
  r = await run(env, '2025-04-16T09:00:00Z');
  assert.equal(r.status, 0, r.stderr);
  const notice = r.report.actions.find((a) => a.action === 'notice');
  assert.deepEqual([notice?.notice, notice?.bal, notice?.to, notice?.ok], ['depublish', bal, contact, true], 'not remembered after the failure: sent now');
  assert.deepEqual(lines(), [expectedArgs, expectedArgs]);
  const text = fs.readFileSync(path.join(dir, 'notice-1.txt'), 'utf8');
  assert.match(text, /^Subject: \[MSSanté\] Votre boîte aux lettres claire\.petit@\S+ va être dépubliée pour cause d'inactivité\n\n/);
  assert.match(text, /« dépublié pour cause d'inactivité » à partir du 01\/05\/2025/);
  assert.match(text, /aucune connexion depuis le 01\/03\/2025/);

  r = await run(env, '2025-04-17T03:00:00Z');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(
    r.report.actions.filter((a) => a.bal === bal),
    [],
    'a sent notice is not sent again',
  );
  assert.equal(lines().length, 2);
});

test('EX_GBM_4440 EX_GBM_6010: first night after an import: nothing planned (inactivity counts from the day serve first recorded logins), then a mass of notices waits for --confirm N', async () => {
  // 16 mailboxes created years ago, imported today, no login recorded, no activityKnownSince set.
  const people = Array.from({ length: 16 }, (_, i) =>
    per(`agent${i}`, `Agent${i}`, 'Import', `8100000005${String(i).padStart(2, '0')}`, {
      created: '2020-01-01',
      contact: { email: `agent${i}.import@example.org` },
    }),
  );
  const env = setup(people, undefined, {});
  const mails = () => sink.messages.filter((m) => m.to.some((t) => t.endsWith('.import@example.org'))).length;

  // Before serve ever ran: no login is recorded, so no inactivity can be observed.
  let dry = await runCliAsync(['--config', env.config, 'lifecycle', 'run', '--now', '2026-01-15T03:00:00Z', '--dry-run']);
  assert.equal(dry.status, 0, dry.stderr);
  assert.match(dry.stdout, /inactivity counted from 2026-01-15 \(no login recorded on this installation yet/);
  assert.doesNotMatch(dry.stdout, /notice/, 'the dry run of the first night plans no notice');
  // serve starts recording logins that day (SharedResources.activity() marks it).
  await withStore(env, (rt) => rt.markLoginsRecordedSince('2026-01-15'));
  let r = await run(env, '2026-01-15T03:00:00Z');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(
    r.report.actions.map((a) => a.action),
    ['purge'],
    'the first run does nothing but the purge',
  );

  // 45 days later (60 - 15): the 16 depublication notices fall due on the same night.
  dry = await runCliAsync(['--config', env.config, 'lifecycle', 'run', '--now', '2026-03-01T03:00:00Z', '--dry-run']);
  assert.equal(dry.status, 0, dry.stderr);
  assert.match(dry.stdout, /inactivity counted from 2026-01-15 \(the day serve first recorded logins/);
  assert.match(dry.stdout, /^summary \(planned\):$/m);
  assert.match(dry.stdout, /^ {2}notice of depublication\tplanned from 2026-03-16\t16$/m, 'the summary counts by action and date');
  assert.match(dry.stdout, /^ {2}auto-reply purge\t2026-03-01\t1$/m);
  assert.match(dry.stdout, /a real run would stop: this run plans 16 notices and 0 deletions, more than lifecycle.maxActionsPerRun \(10\)/);

  r = await run(env, '2026-03-01T03:00:00Z');
  assert.equal(r.status, 1, 'held back: the timer unit fails, a person looks');
  assert.equal((r.report as { stopped?: { planned: unknown } }).stopped?.planned ? 'stopped' : '', 'stopped');
  assert.deepEqual(
    r.report.actions.map((a) => a.action),
    ['purge'],
    'no notice sent, the purge still runs',
  );
  assert.equal(mails(), 0);
  r = await run(env, '2026-03-01T04:00:00Z', '--confirm', '15');
  assert.equal(r.status, 1);
  assert.match(JSON.stringify(r.report), /--confirm 15 does not match what this run plans: 16 notices and 0 deletions/);
  assert.equal(mails(), 0);
  r = await run(env, '2026-03-01T04:00:00Z', '--confirm', '16');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.report.actions.filter((a) => a.action === 'notice' && a.ok).length, 16);
  assert.equal(mails(), 16);
  r = await run(env, '2026-03-01T05:00:00Z');
  assert.deepEqual(r.report.actions, [], 'a confirmed run is not repeated');
});

test('EX_GBM_4440: lifecycle.activityKnownSince set by the installation wins over the day logins were first recorded, and a small batch needs no confirmation', async () => {
  const env = setup([per('luc.petit', 'Luc', 'Petit', '810000000601', { created: '2020-01-01', contact: { email: 'luc.small@example.org' } })], undefined, {
    activityKnownSince: '2025-12-01',
  });
  await withStore(env, (rt) => rt.markLoginsRecordedSince('2026-01-10'));
  const r = await run(env, '2026-01-15T03:00:00Z');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(
    r.report.actions.map((a) => `${a.action}${a.notice ? `:${a.notice}` : ''}`),
    ['purge', 'notice:depublish'],
    'day 45 after 2025-12-01: the notice is due',
  );
  assert.match((r.report as { activityKnownSince?: string }).activityKnownSince ?? '', /^2025-12-01 \(lifecycle.activityKnownSince\)$/);
});
