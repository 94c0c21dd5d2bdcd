// The loopback HTTP protocol between the Dovecot Lua passdb and the checker (EX_LPS_0710:
// the status decides whether Dovecot answers a failure or a temporary failure).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { LoginAttempt } from '../../src/auth/checker.js';
import { CheckerEndpoint } from '../../src/auth/endpoint.js';
import type { CheckOutcome } from '../../src/auth/outcome.js';
import { captureLogger } from '../helpers/log.js';

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
  const res = await fetch(`http://127.0.0.1:${endpoint.port}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  return { status: res.status, text: await res.text() };
}

const form = (token: string) => new URLSearchParams({ user: 'a@b.mssante.fr', token, service: 'imap', mech: 'XOAUTH2', rip: '192.0.2.1', session: 's1', client_id: 'LPS' }).toString();

test('EX_LPS_0710: OK, FAIL and TEMPFAIL are 200, 403 and 503 with the reason', async () => {
  assert.deepEqual(await post(form('good')), { status: 200, text: 'OK' });
  assert.deepEqual(await post(form('bad')), { status: 403, text: 'FAIL token-signature' });
  assert.deepEqual(await post(form('temp')), { status: 503, text: 'TEMPFAIL userinfo-unavailable' });
  assert.deepEqual(await post(form('boom')), { status: 503, text: 'TEMPFAIL internal' });
  assert.deepEqual(seen[0], { user: 'a@b.mssante.fr', token: 'good', service: 'imap', mechanism: 'XOAUTH2', remoteIp: '192.0.2.1', session: 's1', client: 'LPS' });
});

test('EX_LPS_0710: an incomplete or oversized request is never a success', async () => {
  assert.equal((await post('user=a@b.mssante.fr&service=imap')).status, 400);
  assert.equal((await post(form('x'.repeat(70_000)))).status, 413);
  assert.equal((await post(form('good'), '/elsewhere')).status, 404);
  assert.equal((await fetch(`http://127.0.0.1:${endpoint.port}/v1/xoauth2`)).status, 405);
  assert.equal((await fetch(`http://127.0.0.1:${endpoint.port}/v1/health`)).status, 200);
});
