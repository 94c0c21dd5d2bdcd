// The loopback HTTP protocol between the Dovecot Lua passdb and the checker (EX_LPS_0710:
// the status decides whether Dovecot answers a failure or a temporary failure).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { LoginAttempt } from '../../src/auth/checker.js';
import { CheckerEndpoint } from '../../src/auth/endpoint.js';
import type { CheckOutcome } from '../../src/auth/outcome.js';
import { PasswordLogins } from '../../src/auth/password-login.js';
import { captureLogger } from '../helpers/log.js';
import { MemoryMailboxAccess } from '../helpers/mailbox-access.js';

const seen: LoginAttempt[] = [];
const endpoint = new CheckerEndpoint(
  {
    async check(a: LoginAttempt): Promise<CheckOutcome> {
      seen.push(a);
      if (a.token === 'good') return { verdict: 'OK', idNat: '8001', role: 'holder' };
      if (a.token === 'boom') throw new Error('boom');
      if (a.token === 'temp') return { verdict: 'TEMPFAIL', reason: 'userinfo-unavailable' };
      return { verdict: 'FAIL', reason: 'token-signature' };
    },
  },
  { host: '127.0.0.1', port: 0 },
  captureLogger().log,
);

before(() => endpoint.start());
after(() => endpoint.stop());

async function post(body: string, path = '/v1/xoauth2'): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${endpoint.port}${path}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  return { status: res.status, text: await res.text() };
}

const form = (token: string) =>
  new URLSearchParams({ user: 'a@b.mssante.fr', token, service: 'imap', mech: 'XOAUTH2', rip: '192.0.2.1', session: 's1', client_id: 'LPS' }).toString();

test('EX_LPS_0710: OK, FAIL and TEMPFAIL are 200, 403 and 503 with the reason', async () => {
  assert.deepEqual(await post(form('good')), { status: 200, text: 'OK' });
  assert.deepEqual(await post(form('bad')), { status: 403, text: 'FAIL token-signature' });
  assert.deepEqual(await post(form('temp')), { status: 503, text: 'TEMPFAIL userinfo-unavailable' });
  assert.deepEqual(await post(form('boom')), { status: 503, text: 'TEMPFAIL internal' });
  assert.deepEqual(seen[0], {
    user: 'a@b.mssante.fr',
    token: 'good',
    service: 'imap',
    mechanism: 'XOAUTH2',
    remoteIp: '192.0.2.1',
    session: 's1',
    client: 'LPS',
  });
});

test('EX_LPS_0710: an incomplete or oversized request is never a success', async () => {
  assert.equal((await post('user=a@b.mssante.fr&service=imap')).status, 400);
  assert.equal((await post(form('x'.repeat(70_000)))).status, 413);
  assert.equal((await post(form('good'), '/elsewhere')).status, 404);
  assert.equal((await fetch(`http://127.0.0.1:${endpoint.port}/v1/xoauth2`)).status, 405);
  assert.equal((await fetch(`http://127.0.0.1:${endpoint.port}/v1/health`)).status, 200);
});

test('EX_LPS_0600 EX_LPS_1200: /v1/password-login refuses a password login for an MSSanté mailbox (403), leaves other users to the site (200 NEXT), and is never a success when undecided (503); the refusal is traced (EX_GDT_5040)', async () => {
  const access = new MemoryMailboxAccess().add('app.lps@ch-exemple.mssante.fr', { type: 'APP', structureId: '1130000001' });
  const withPasswords = new CheckerEndpoint(
    { check: async () => ({ verdict: 'FAIL', reason: 'mechanism' }) },
    { host: '127.0.0.1', port: 0 },
    captureLogger().log,
    new PasswordLogins(access, captureLogger().log),
  );
  await withPasswords.start();
  try {
    const ask = async (user: string, e = withPasswords): Promise<{ status: number; text: string }> => {
      const res = await fetch(`http://127.0.0.1:${e.port}/v1/password-login`, {
        method: 'POST',
        body: new URLSearchParams({ user, service: 'imap', mech: 'PLAIN', rip: '192.0.2.7', session: 's9' }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      return { status: res.status, text: await res.text() };
    };
    assert.deepEqual(await ask('app.lps@ch-exemple.mssante.fr'), { status: 403, text: 'FAIL mssante-mailbox' });
    assert.deepEqual(await ask('Nobody.Yet@CH-EXEMPLE.mssante.fr'), { status: 403, text: 'FAIL mssante-mailbox' }, 'any address of our MSSanté domains');
    assert.deepEqual(await ask('intranet@ch-exemple.fr'), { status: 200, text: 'NEXT' });
    assert.deepEqual(await ask('root'), { status: 200, text: 'NEXT' });
    assert.deepEqual(
      access.failures.map((f) => [f.mailbox, f.authType, f.reason, f.service, f.remoteIp, f.session]),
      [
        ['app.lps@ch-exemple.mssante.fr', 'PASSWORD', 'password-mechanism', 'imap', '192.0.2.7', 's9'],
        ['nobody.yet@ch-exemple.mssante.fr', 'PASSWORD', 'password-mechanism', 'imap', '192.0.2.7', 's9'],
      ],
    );
    access.unavailable = true;
    assert.deepEqual(await ask('intranet@ch-exemple.fr'), { status: 503, text: 'TEMPFAIL internal' });
    // Without a registry to ask (the endpoint built without it), undecided too.
    assert.deepEqual(await ask('intranet@ch-exemple.fr', endpoint), { status: 503, text: 'TEMPFAIL no-registry' });
  } finally {
    await withPasswords.stop();
  }
});
