// EX_LPS_1000 with the real Dovecot and Postfix behind the front, limits shortened by
// configuration (idle 2 s, maximum 5 s instead of 15 min and 4 h).
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

before(async () => {
  stack = await startLpsStack(root, { limits: { idleSeconds: 2, maxSeconds: 5 } });
  st().access.add(BAL, { type: 'PER', holder: HOLDER });
});
after(async () => {
  await stack?.stop();
});

async function loggedIn(protocol: 'imap' | 'smtp'): Promise<{ c: LineConnection; start: number }> {
  const start = Date.now();
  const token = await st().psc.mint({ idNat: HOLDER });
  const login = protocol === 'imap' ? imapXoauth2Login : smtpXoauth2Login;
  const r = await login(protocol === 'imap' ? st().imapPort : st().submissionPort, BAL, token, { localAddress: freshLoopback(), keepOpen: true });
  assert.equal(r.verdict, 'OK', r.line);
  return { c: r.connection, start };
}

// The four cases run at the same time: each has its own connection and source address.
describe('EX_LPS_1000: session limits on the real IMAP and SMTP entry points', { concurrency: true }, () => {
  for (const protocol of ['imap', 'smtp'] as const) {
    test(`EX_LPS_1000: an authenticated ${protocol} session without a command is closed at the idle limit`, async () => {
      const { c } = await loggedIn(protocol);
      const quietSince = c.lastSentAt;
      assert.ok(await c.waitClosed(6000), 'still open');
      const quiet = (c.closedAt ?? 0) - quietSince;
      assert.ok(quiet >= 1950 && quiet < 4500, `closed after ${quiet} ms of silence`);
    });

    test(`EX_LPS_1000: an active ${protocol} session (NOOP every 0.5 s) is closed at the maximum duration, not before`, async () => {
      const { c, start } = await loggedIn(protocol);
      const noop = setInterval(() => c.send(protocol === 'imap' ? 'n NOOP' : 'NOOP'), 500);
      try {
        assert.ok(await c.waitClosed(8000), 'still open');
        const lived = (c.closedAt ?? 0) - start;
        assert.ok(lived >= 4800 && lived < 6500, `closed after ${lived} ms`);
      } finally {
        clearInterval(noop);
      }
    });
  }
});
