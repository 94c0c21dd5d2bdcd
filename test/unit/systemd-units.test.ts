import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../helpers/cli.js';

function unit(name: string): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  for (const line of fs.readFileSync(path.join(REPO_ROOT, 'systemd', name), 'utf8').split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m) keys.set(m[1] as string, [...(keys.get(m[1] as string) ?? []), m[2] as string]);
  }
  return keys;
}

test('EX_2.2_5010: the shipped timer runs `whitelist sync` daily, spread and caught up after downtime', () => {
  const timer = unit('mss-sidecar-whitelist-sync.timer');
  assert.deepEqual(timer.get('OnCalendar'), ['daily']);
  assert.ok(timer.get('RandomizedDelaySec'));
  assert.deepEqual(timer.get('Persistent'), ['true']);
  const service = unit('mss-sidecar-whitelist-sync.service');
  assert.match(service.get('ExecStart')?.[0] ?? '', /mss-sidecar .*whitelist sync$/);
  assert.deepEqual(service.get('Type'), ['oneshot']);
  assert.deepEqual(service.get('Restart'), ['on-failure']);
});

test('the sync service is hardened (no privileges, read-only system, only its state directory writable)', () => {
  const service = unit('mss-sidecar-whitelist-sync.service');
  for (const [key, value] of [
    ['NoNewPrivileges', 'yes'],
    ['ProtectSystem', 'strict'],
    ['ProtectHome', 'yes'],
    ['PrivateTmp', 'yes'],
    ['CapabilityBoundingSet', ''],
    ['StateDirectory', 'mss-sidecar'],
    ['User', 'mss-sidecar'],
  ] as const) {
    assert.deepEqual(service.get(key), [value], key);
  }
});

test('EX_PSU_5810 EX_SSU_5820: the stats timer runs `stats run` twice a day on days 1 to 5 (reports are asked again 12 h later)', () => {
  const timer = unit('mss-sidecar-stats.timer');
  assert.deepEqual(timer.get('OnCalendar'), ['*-*-01..05 00:30:00', '*-*-01..05 13:00:00']);
  assert.deepEqual(timer.get('Persistent'), ['true']);
  const service = unit('mss-sidecar-stats.service');
  assert.match(service.get('ExecStart')?.[0] ?? '', /mss-sidecar stats run$/);
  assert.deepEqual(service.get('Type'), ['oneshot']);
  assert.deepEqual(service.get('NoNewPrivileges'), ['yes']);
});

const minutes = (s: string): number => Number(/^(\d+)min$/.exec(s)?.[1] ?? NaN);

test('RE_1.1.1_5020, EX_1.1.1_5030: the shipped timers publish before the 02:00 batch (Paris time, spread included) and fetch reports after 04:00', () => {
  const pub = unit('mss-sidecar-annuaire-publish.timer');
  const [at] = pub.get('OnCalendar') ?? [];
  const m = /^\*-\*-\* (\d\d):(\d\d):00 Europe\/Paris$/.exec(at ?? '');
  assert.ok(m, at);
  const start = Number(m[1]) * 60 + Number(m[2]);
  assert.ok(start + minutes(pub.get('RandomizedDelaySec')?.[0] ?? '') < 2 * 60, 'the latest start is before 02:00');
  assert.deepEqual(pub.get('Persistent'), ['true']);
  assert.match(unit('mss-sidecar-annuaire-publish.service').get('ExecStart')?.[0] ?? '', /mss-sidecar .*annuaire publish --actor system:annuaire$/);
  assert.deepEqual(unit('mss-sidecar-annuaire-publish.service').get('RestartPreventExitStatus'), ['1 2'], 'blocking anomalies are not retried');

  const rep = unit('mss-sidecar-annuaire-report.timer');
  const r = /^\*-\*-\* ([\d,]+):(\d\d):00 Europe\/Paris$/.exec(rep.get('OnCalendar')?.[0] ?? '');
  assert.ok(r);
  for (const h of (r[1] as string).split(',').map(Number)) assert.ok(h >= 4, `hour ${h} is after the batch`);
  const service = unit('mss-sidecar-annuaire-report.service');
  assert.match(service.get('ExecStart')?.[0] ?? '', /annuaire report --actor system:annuaire$/);
  // EX_PBA_5100: the report writes corrected identifiers to the registry under /etc/mss-sidecar.
  assert.deepEqual(service.get('ReadWritePaths'), ['/etc/mss-sidecar']);
  assert.deepEqual(unit('mss-sidecar-annuaire-publish.service').get('ReadOnlyPaths'), ['/etc/mss-sidecar']);
  for (const s of [service, unit('mss-sidecar-annuaire-publish.service')]) {
    assert.deepEqual(s.get('NoNewPrivileges'), ['yes']);
    assert.deepEqual(s.get('ProtectSystem'), ['strict']);
    assert.deepEqual(s.get('User'), ['mss-sidecar']);
  }
});
