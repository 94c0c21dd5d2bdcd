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
