// EX_GBM_4030 through a real Dovecot: the auto-reply BAL's messages older than the bound are
// purged by the default doveadm commands, and a purge command that leaves them is caught by
// the check of the mailbox itself (not only a default in a command string).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { stringify } from 'yaml';
import { lifecycleSection } from '../../src/lifecycle/config.js';
import { DovecotInstance } from '../../sandbox/mta/dovecot-instance.js';
import { runCliAsync } from '../helpers/cli.js';
import { DOMAIN, registryYaml } from '../helpers/registry.js';
import { tmpDir } from '../helpers/tmp.js';
import { spawnSync } from 'node:child_process';

const AUTOREPLY = `reponse.automatique-test@${DOMAIN}`;
const available = DovecotInstance.available();
let dovecot: DovecotInstance;

before(async () => {
  if (!available) return;
  dovecot = new DovecotInstance({ dir: path.join(tmpDir('mss-autoreply-'), 'dovecot') });
  await dovecot.start();
});
after(() => dovecot?.stop());

const doveadm = (...args: string[]) => spawnSync('doveadm', ['-c', dovecot.configFile, ...args], { encoding: 'utf8' });

/**
 * Three messages delivered to the auto-reply BAL's maildir (as an MDA writes them into new/),
 * `oldDays[i]` days ago for the first ones: maildir's received date is the file's mtime,
 * read when Dovecot first indexes the message.
 */
function fill(oldDays: number[]): void {
  assert.equal(doveadm('expunge', '-u', AUTOREPLY, 'mailbox', '*', 'all').status, 0);
  const dir = path.join(dovecot.mailDir, DOMAIN, 'reponse.automatique-test');
  const mail = {
    uid: Number(spawnSync('id', ['-u', 'mail'], { encoding: 'utf8' }).stdout),
    gid: Number(spawnSync('id', ['-g', 'mail'], { encoding: 'utf8' }).stdout),
  };
  for (const sub of ['', 'new', 'cur', 'tmp']) {
    fs.mkdirSync(path.join(dir, sub), { recursive: true });
    fs.chownSync(path.join(dir, sub), mail.uid, mail.gid);
  }
  for (let i = 0; i < 3; i++) {
    const file = path.join(dir, 'new', `${Math.floor(Date.now() / 1000)}.M${i}P${process.pid}R${Math.random().toString(36).slice(2)}.test`);
    fs.writeFileSync(file, `From: a@ch-voisin.mssante.fr\r\nSubject: test ${i}\r\nMessage-ID: <t${i}@x>\r\n\r\nbody\r\n`);
    fs.chownSync(file, mail.uid, mail.gid);
    const days = oldDays[i];
    if (days !== undefined) fs.utimesSync(file, new Date(Date.now() - days * 86_400_000), new Date(Date.now() - days * 86_400_000));
  }
}

const count = (): number => doveadm('search', '-u', AUTOREPLY, 'mailbox', '*', 'all').stdout.trim().split('\n').filter(Boolean).length;

function env(purge?: string[]): { config: string; dir: string } {
  const dir = tmpDir('mss-autoreply-cli-');
  fs.writeFileSync(path.join(dir, 'registry.yaml'), registryYaml([]));
  const d = (...rest: string[]) => ['doveadm', '-c', dovecot.configFile, ...rest];
  const query = ['mailbox', '*', '(', 'savedbefore', '{maxAgeDays}d', 'OR', 'before', '{maxAgeDays}d', ')'];
  fs.writeFileSync(
    path.join(dir, 'config.yaml'),
    stringify({
      operator: { name: 'CH Test', domains: [DOMAIN], structureId: '1130000001', certificate: 'op.crt', key: 'op.key' },
      trust: { dir: 'trust' },
      state: { dir: 'state' },
      registry: { file: 'registry.yaml' },
      lifecycle: {
        notices: { via: 'command', command: ['/bin/true'] },
        // The shipped defaults, with this instance's configuration file.
        purgeAutoreplyCommand: purge ?? d('expunge', '-u', '{address}', ...query),
        autoreplyCheckCommand: d('search', '-u', '{address}', ...query),
      },
    }),
  );
  return { config: path.join(dir, 'config.yaml'), dir };
}

const traces = (dir: string): string =>
  fs
    .readdirSync(path.join(dir, 'state', 'traces', 'functional'), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => fs.readFileSync(path.join(e.parentPath, e.name), 'utf8'))
    .join('');

test(
  "EX_GBM_4030: the daily run purges the auto-reply BAL's messages older than 27 days (received 40 and 28 days ago) and keeps the recent one, traced",
  { skip: !available && 'Dovecot is not installed' },
  async () => {
    fill([40, 28]);
    assert.equal(count(), 3);
    const e = env();
    const r = await runCliAsync(['--config', e.config, 'lifecycle', 'run', '--json']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.deepEqual(
      JSON.parse(r.stdout).actions.map((a: { action: string; ok: boolean }) => [a.action, a.ok]),
      [['purge', true]],
    );
    assert.equal(count(), 1, 'the message received today stays');
    assert.match(traces(e.dir), /"action":"bal\.purge-autoreply".*"messages older than 27 days \(EX_GBM_4030/);
  },
);

test(
  'EX_GBM_4030: a purge command that leaves old messages fails the run (LIFECYCLE_AUTOREPLY_NOT_PURGED), is traced and retried the next run; more than 27 days is refused by the configuration',
  { skip: !available && 'Dovecot is not installed' },
  async () => {
    fill([35]);
    const e = env(['/bin/true']);
    const r = await runCliAsync(['--config', e.config, 'lifecycle', 'run', '--json']);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    const [a] = JSON.parse(r.stdout).actions as Array<{ action: string; ok: boolean; detail: string }>;
    assert.equal(a?.ok, false);
    assert.match(a?.detail ?? '', /^LIFECYCLE_AUTOREPLY_NOT_PURGED: 1 message\(s\) of reponse\.automatique-test@.* still older than 27 days/);
    assert.match(traces(e.dir), /"action":"bal\.purge-autoreply".*"ok":false,"code":"LIFECYCLE_AUTOREPLY_NOT_PURGED"/);
    assert.equal(count(), 3);
    const again = await runCliAsync(['--config', e.config, 'lifecycle', 'run', '--json']);
    assert.equal(JSON.parse(again.stdout).actions.length, 1, `not marked as purged for the day: tried again ${again.stdout}`);
    assert.throws(() => lifecycleSection.parse({ autoreplyMaxAgeDays: 28 }), /at most 27 days/);
    assert.equal(lifecycleSection.parse({}).autoreplyMaxAgeDays, 27);
  },
);
