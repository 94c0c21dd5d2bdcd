// EX_GBM_6010: one deletion of a mailbox (src/lifecycle/delete-mailbox.ts) for `bal delete`
// and the lifecycle job: the mail store emptied first, the entry marked deleted after, and a
// failed command traced (bal.purge-store) with the mailbox left as it was, in both paths.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { lifecycleSection } from '../../src/lifecycle/config.js';
import { noticeKey, type NoticeRecord } from '../../src/lifecycle/plan.js';
import { runLifecycle } from '../../src/lifecycle/run.js';
import { EmbeddedStore } from '../../src/store/embedded.js';
import { TraceLog } from '../../src/traces/trace-log.js';
import { runCliInProcess } from '../helpers/cli-in-process.js';
import { exampleCopy } from '../helpers/example-copy.js';
import { DOMAIN, LOAD, per, writeRegistry } from '../helpers/registry.js';
import { tmpDir } from '../helpers/tmp.js';
import { traceLines } from '../helpers/traces.js';

// A delete command that fails the way doveadm does for a user it does not know.
const FAILING = ['/bin/sh', '-c', 'echo "doveadm: user {address} not found" >&2; exit 67'];

test('EX_GBM_6010: the lifecycle job whose delete command fails traces it (bal.purge-store) and leaves the mailbox active for the next run', async () => {
  const dir = tmpDir();
  const address = `jean.dupont@${DOMAIN}`;
  const file = writeRegistry(dir, [per('jean.dupont', 'Jean', 'Dupont', '810000000101', { created: '2023-01-01', contact: { email: 'j@example.org' } })]);
  const before = fs.readFileSync(file, 'utf8');
  const store = new EmbeddedStore(path.join(dir, 'store'));
  const traces = new TraceLog(path.join(dir, 'traces'));
  // No login since its creation; the deletion notice sent five months before the run.
  const notice: NoticeRecord = {
    state: 'sent',
    activity: '2023-01-01T00:00:00.000Z',
    sentAt: '2024-01-01T03:00:00.000Z',
    scheduledFor: '2024-03-01T03:00:00.000Z',
  };
  await store.set(noticeKey('delete', address), JSON.stringify(notice));
  try {
    const report = await runLifecycle(
      {
        file,
        load: LOAD,
        store,
        traces,
        notices: { blockedFor: () => undefined, send: async () => ({ to: 'x' }), close: () => undefined },
        config: lifecycleSection.parse({ deleteCommand: FAILING, activityKnownSince: '2020-01-01' }),
        stats: {},
        actor: { id: 'system:lifecycle', kind: 'system' as const },
      },
      { now: new Date('2024-06-01T03:00:00Z') },
    );
    const deletion = report.actions.find((a) => a.action === 'delete');
    assert.equal(deletion?.ok, false, JSON.stringify(report.actions));
    assert.match(
      deletion?.detail ?? '',
      /^LIFECYCLE_COMMAND_FAILED: lifecycle\.deleteCommand failed for jean\.dupont@\S+ \(exit 67\): doveadm: user jean\.dupont@\S+ not found; the mailbox is unchanged$/,
    );
  } finally {
    traces.close();
    await store.close();
  }
  assert.equal(fs.readFileSync(file, 'utf8'), before, 'the registry is unchanged: the next run tries again');
  const purge = traceLines(path.join(dir, 'traces')).filter((t) => t.action === 'bal.purge-store');
  assert.deepEqual(
    purge.map((t) => [t.bal, t.actor.id, t.means?.service, t.response.ok, t.response.code]),
    [[address, 'system:lifecycle', 'lifecycle', false, 'LIFECYCLE_COMMAND_FAILED']],
  );
});

test('EX_GBM_6010: `bal delete` whose delete command fails exits 1, traces it (bal.purge-store) like the lifecycle job, and leaves the mailbox active', async () => {
  const { dir, config, registry } = exampleCopy(FAILING);
  const before = fs.readFileSync(registry, 'utf8');
  const address = 'jean.dupont@ch-exemple.mssante.fr';
  const r = await runCliInProcess(['--config', config, 'bal', 'delete', address, '--reason', 'départ', '--actor', 'alice']);
  assert.equal(r.status, 1, r.stdout);
  assert.match(
    r.stderr,
    /^error LIFECYCLE_COMMAND_FAILED: lifecycle\.deleteCommand failed for jean\.dupont@\S+ \(exit 67\): doveadm: user jean\.dupont@\S+ not found; the mailbox is unchanged$/m,
  );
  assert.equal(fs.readFileSync(registry, 'utf8'), before);
  const t = traceLines(path.join(dir, 'state', 'traces'));
  assert.deepEqual(
    t.map((x) => [x.action, x.bal, x.actor.id, x.means?.service, x.response.ok, x.response.code]),
    [['bal.purge-store', address, 'admin:alice', 'cli', false, 'LIFECYCLE_COMMAND_FAILED']],
  );
  const ok = await runCliInProcess(['--config', config, 'bal', 'delete', address, '--reason', 'départ', '--no-purge-mail', '--json']);
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal((JSON.parse(ok.stdout) as { bal: { status: string } }).bal.status, 'deleted');
});
