// The handler deadlines of a milter server behind one timer (src/milter/deadlines.ts, issue 20):
// each fires at or after its own time, in order, unless cancelled; memory goes with them.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { Deadlines } from '../../src/milter/deadlines.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('issue 20: one timer for every handler deadline: each fires at or after its time and in order, a cancelled one never, one added while others expire fires on time', async () => {
  const ms = 300;
  const d = new Deadlines(ms);
  const t0 = performance.now();
  const fired: Array<[string, number]> = [];
  let cDue = 0;
  const done = new Promise<void>((resolve) => {
    d.add(() => {
      fired.push(['A', performance.now() - t0]);
      // Added while expiring: it must not delay B, which is due before it.
      cDue = performance.now() - t0 + ms;
      d.add(() => {
        fired.push(['C', performance.now() - t0]);
        resolve();
      });
    });
  });
  const cancelled = d.add(() => fired.push(['cancelled', performance.now() - t0]));
  await sleep(100);
  const bAdded = performance.now() - t0;
  d.add(() => fired.push(['B', performance.now() - t0]));
  d.cancel(cancelled);
  await done;
  assert.deepEqual(
    fired.map(([n]) => n),
    ['A', 'B', 'C'],
  );
  const at = Object.fromEntries(fired);
  assert.ok((at.A ?? 0) >= ms, `A fired after ${at.A} ms, before its ${ms} ms`);
  assert.ok((at.B ?? 0) >= bAdded + ms, `B fired at ${at.B} ms, before ${bAdded + ms}`);
  assert.ok((at.C ?? 0) >= cDue, `C fired at ${at.C} ms, before ${cDue}`);
  // B waited for its own time, not for C's (the timer expire() arms is for the oldest).
  assert.ok((at.B ?? 0) < cDue - 50, `B fired at ${at.B} ms, with C (due ${cDue})`);
  assert.equal(d.size, 0);
});

test('issue 20: deadlines cancelled in any order are forgotten: none held once the oldest is gone, none fires', async () => {
  const d = new Deadlines(200);
  let fired = 0;
  const all = Array.from({ length: 5000 }, () => d.add(() => fired++));
  // In order: each cancel drops the head.
  for (const x of all) d.cancel(x);
  assert.equal(d.size, 0);
  assert.equal(d.held, 0);
  // The oldest kept pending: the later ones wait behind it until it goes, then all go.
  const oldest = d.add(() => fired++);
  const later = Array.from({ length: 5000 }, () => d.add(() => fired++));
  for (const x of later) d.cancel(x);
  assert.equal(d.size, 1);
  d.cancel(oldest);
  assert.equal(d.held, 0);
  await sleep(300);
  assert.equal(fired, 0);
});
