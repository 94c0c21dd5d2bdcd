// EX_LPS_1000 with the real Dovecot and Postfix behind the front, limits shortened by
// configuration (idle 5 s, maximum 10 s instead of 15 min and 4 h).
//
// Each closing time is measured from the client-side event the front's clock starts at (the
// last line sent; the connection established), and bounded above by the limit plus a margin
// for a loaded machine (timers late, the close reaching the client). The idle limit also
// covers the wait for the login's answer (nothing is sent meanwhile, and before login the
// idle limit is the smaller of the two): with 2 s, a login slowed to 2 s by the load (Dovecot,
// the checker, PSC) was cut before it succeeded.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { imapXoauth2Login, smtpXoauth2Login, type LineConnection } from '../helpers/lps-clients.js';
import { freshLoopback, startLpsStack, type LpsStack } from '../helpers/lps-stack.js';
import { tmpDir } from '../helpers/tmp.js';

const HOLDER = '810000000001';
const BAL = 'jean.dupond@ch-exemple.mssante.fr';
const root = tmpDir('mss-lps-sessions-');
let stack: LpsStack | undefined;
const st = (): LpsStack => stack as LpsStack;
const IDLE_MS = 5000;
const MAX_MS = 10_000;
/** Timers late and the close reaching the client, on a loaded 2-core machine. */
const LATE_MS = 2500;

before(async () => {
  stack = await startLpsStack(root, { limits: { idleSeconds: IDLE_MS / 1000, maxSeconds: MAX_MS / 1000 } });
  st().access.add(BAL, { type: 'PER', holder: HOLDER });
});
after(async () => {
  await stack?.stop();
});

async function loggedIn(protocol: 'imap' | 'smtp'): Promise<{ c: LineConnection }> {
  const token = await st().psc.mint({ idNat: HOLDER });
  const login = protocol === 'imap' ? imapXoauth2Login : smtpXoauth2Login;
  const r = await login(protocol === 'imap' ? st().imapPort : st().submissionPort, BAL, token, { localAddress: freshLoopback(), keepOpen: true });
  assert.equal(r.verdict, 'OK', r.line);
  return { c: r.connection };
}

// The four cases run at the same time: each has its own connection and source address.
describe('EX_LPS_1000: session limits on the real IMAP and SMTP entry points', { concurrency: true }, () => {
  for (const protocol of ['imap', 'smtp'] as const) {
    test(`EX_LPS_1000: an authenticated ${protocol} session without a command is closed at the idle limit`, async () => {
      const { c } = await loggedIn(protocol);
      const quietSince = c.lastSentAt;
      assert.ok(await c.waitClosed(IDLE_MS + 3 * LATE_MS), 'still open');
      const quiet = (c.closedAt ?? 0) - quietSince;
      assert.ok(quiet >= IDLE_MS - 50 && quiet < IDLE_MS + LATE_MS, `closed after ${quiet} ms of silence (idle limit ${IDLE_MS} ms)`);
    });

    test(`EX_LPS_1000: an active ${protocol} session (NOOP every 0.5 s) is closed at the maximum duration, not before`, async () => {
      const { c } = await loggedIn(protocol);
      const noop = setInterval(() => c.send(protocol === 'imap' ? 'n NOOP' : 'NOOP'), 500);
      try {
        assert.ok(await c.waitClosed(MAX_MS + 3 * LATE_MS), 'still open');
        // The front's session starts when it accepts the connection, after the client saw it open.
        const lived = (c.closedAt ?? 0) - c.openedAt;
        assert.ok(lived >= MAX_MS - 50 && lived < MAX_MS + LATE_MS, `closed after ${lived} ms (maximum ${MAX_MS} ms)`);
      } finally {
        clearInterval(noop);
      }
    });
  }
});
