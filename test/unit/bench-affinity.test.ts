// bench/lib/affinity.ts: the CPU-list parser the gates bench's pinning check relies on, and
// the check itself against real processes (a shell and the child it forked).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { test } from 'node:test';
import { AffinityCheck, cpusAllowedOf, parseCpuList, pinSide, type Side } from '../../bench/lib/affinity.js';
import { processTree } from '../../bench/lib/cpu.js';
import { spawnTracked, waitForOutput } from '../helpers/processes.js';

test('a CPU list is read as the kernel and taskset write it; anything else is refused', () => {
  assert.deepEqual(parseCpuList('0'), [0]);
  assert.deepEqual(parseCpuList('0-1\n'), [0, 1]);
  assert.deepEqual(parseCpuList('0,2-4,7'), [0, 2, 3, 4, 7]);
  assert.deepEqual(parseCpuList('3,1,1-2'), [1, 2, 3]);
  for (const bad of ['', ' ', '0-', '1-0', 'a', '0,,1', '0-1-2', '0 1']) assert.throws(() => parseCpuList(bad), /CPU/, JSON.stringify(bad));
  assert.deepEqual(cpusAllowedOf('Name:\tx\nCpus_allowed:\t3\nCpus_allowed_list:\t0-1\nMems_allowed:\t1\n'), [0, 1]);
  assert.throws(() => cpusAllowedOf('Name:\tx\n'), /Cpus_allowed_list/);
});

test(
  'a side pinned with its whole tree passes the check; a child moved off its CPU fails it',
  { skip: os.cpus().length < 2 ? 'needs two CPUs' : false, timeout: 30_000 },
  async () => {
    const shell = spawnTracked('sh', ['-c', 'sleep 30 & echo started; wait']);
    await waitForOutput(shell, (out) => out.includes('started'), 10_000);
    const root = shell.child.pid as number;
    const tree = processTree(root);
    assert.equal(tree.length, 2, `the shell and its sleep: ${tree.join(' ')}`);
    const side: Side = { name: 'A', cpus: [0], roots: [{ name: 'shell', pid: root, tree: true }] };
    pinSide(side);
    const check = new AffinityCheck([side]);
    check.sample();
    assert.ok(check.held(), check.summary());
    assert.equal(check.processes.get('A')?.size, 2);
    assert.match(check.summary(), /^pinning check held: .*A on CPU 0: 2 processes/);

    const child = tree.find((p) => p !== root) as number;
    execFileSync('taskset', ['-p', '-c', '1', String(child)], { stdio: 'ignore' });
    check.sample();
    assert.equal(check.held(), false);
    assert.deepEqual(
      check.strays.map((s) => [s.pid, s.allowed]),
      [[child, '1']],
    );
    assert.match(check.summary(), /pinning check FAILED: .*pinned figure withheld/);

    pinSide(side); // puts it back, and a fresh check holds again
    const again = new AffinityCheck([side]);
    again.sample();
    assert.ok(again.held(), again.summary());
    await shell.stop();
  },
);
