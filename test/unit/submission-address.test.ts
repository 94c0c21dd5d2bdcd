// The mailboxes a From: header names (RFC 5322 §3.4), as the sender-rights rule reads them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { headerMailboxes, splitAddress } from '../../src/submission/address.js';
import { headerLineBytes } from '../../src/milter/message.js';

test('sender rights: From: mailboxes are read through display names, quotes, comments, groups and folding', () => {
  const cases: Array<[string, string[]]> = [
    ['a@b.fr', ['a@b.fr']],
    ['<A@B.fr>', ['a@b.fr']],
    ['"Dupont, Jean" <jean@ch.mssante.fr>', ['jean@ch.mssante.fr']],
    ['"Dr <chef>" <jean@ch.mssante.fr>', ['jean@ch.mssante.fr']],
    ['Jean (cardiologie, <pas@ici.fr>) <jean@ch.mssante.fr>', ['jean@ch.mssante.fr']],
    ['jean@ch.mssante.fr (Jean Dupont)', ['jean@ch.mssante.fr']],
    ['=?UTF-8?Q?H=C3=A9l=C3=A8ne?= <helene@ch.mssante.fr>', ['helene@ch.mssante.fr']],
    ['Jean\n <jean@ch.mssante.fr>', ['jean@ch.mssante.fr']],
    ['a@b.fr, "X" <c@d.fr>', ['a@b.fr', 'c@d.fr']],
    ['Equipe: a@b.fr, c@d.fr;', ['a@b.fr', 'c@d.fr']],
    ['<@relais.fr:jean@ch.mssante.fr>', ['jean@ch.mssante.fr']],
    ['undisclosed', []],
    ['', []],
  ];
  for (const [value, expected] of cases) assert.deepEqual(headerMailboxes(value), expected, value);
});

test('addresses split at the last @, domain lowercased', () => {
  assert.deepEqual(splitAddress('Jean.Dupont@CH.MSSANTE.FR'), { local: 'Jean.Dupont', domain: 'ch.mssante.fr' });
  assert.deepEqual(splitAddress('"a@b"@c.fr'), { local: '"a@b"', domain: 'c.fr' });
  assert.deepEqual(splitAddress('postmaster'), { local: 'postmaster', domain: '' });
});

test('EX_GBM_4410: a header counts as its bytes on the wire (UTF-8, CRLF where a folded value has a bare LF)', () => {
  assert.equal(headerLineBytes({ name: 'Subject', value: 'abc' }), 'Subject: abc\r\n'.length);
  assert.equal(headerLineBytes({ name: 'Subject', value: 'été' }), Buffer.byteLength('Subject: été\r\n'));
  assert.equal(headerLineBytes({ name: 'To', value: 'a@b.fr,\n\tc@d.fr' }), 'To: a@b.fr,\r\n\tc@d.fr\r\n'.length);
  assert.equal(headerLineBytes({ name: 'To', value: 'a@b.fr,\r\n\tc@d.fr' }), 'To: a@b.fr,\r\n\tc@d.fr\r\n'.length);
});
