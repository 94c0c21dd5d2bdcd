import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { freePorts, reservePort } from '../../src/util/free-port.js';

test('free ports are distinct, below the ephemeral range, and reserved across processes', async () => {
  const low = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  const ports = await freePorts(40);
  assert.equal(new Set(ports).size, 40);
  for (const p of ports) {
    assert.ok(p < low, `${p} is below the ephemeral range (${low})`);
    assert.equal(fs.readFileSync(path.join(os.tmpdir(), 'mss-ports', String(p)), 'utf8').trim(), String(process.pid), `port ${p} is locked by this process`);
  }
});

test('a port locked by another live process is refused; one locked by a dead process is taken over', () => {
  const dir = path.join(os.tmpdir(), 'mss-ports');
  fs.mkdirSync(dir, { recursive: true });
  const live = 10_007;
  const dead = 10_009;
  fs.writeFileSync(path.join(dir, String(live)), '1\n'); // PID 1 is always alive
  fs.writeFileSync(path.join(dir, String(dead)), '2147483646\n'); // no such process
  try {
    assert.equal(reservePort(live), false);
    assert.equal(reservePort(dead), true);
    assert.equal(fs.readFileSync(path.join(dir, String(dead)), 'utf8').trim(), String(process.pid));
  } finally {
    fs.rmSync(path.join(dir, String(live)), { force: true });
  }
});
