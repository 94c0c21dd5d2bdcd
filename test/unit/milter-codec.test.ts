import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isMssError } from '../../src/errors.js';
import { encodeCommand, parseCommand, type MilterCommand } from '../../src/milter/commands.js';
import { Action, Proto } from '../../src/milter/constants.js';
import { PacketDecoder, encodePacket, type Packet } from '../../src/milter/framing.js';
import { MacroStore } from '../../src/milter/macros.js';
import { checkHeader, parseEnvelope } from '../../src/milter/message.js';
import { REQUESTED_MACROS, agree, decodeAgreement, encodeAgreement, type Wanted } from '../../src/milter/negotiation.js';
import { formatReply, parseReplyText } from '../../src/milter/reply.js';
import { decodeResponse, encodeReplyCode, encodeResponse, type MilterResponse } from '../../src/milter/responses.js';
import { POSTFIX_V6_OFFER } from '../helpers/milter-mta.js';

const ALL_COMMANDS: MilterCommand[] = [
  { type: 'optneg', version: 6, actions: 0x1ff, protocol: 0x1fffff },
  {
    type: 'macro',
    for: 'R',
    macros: [
      ['i', 'ABC123'],
      ['{rcpt_addr}', 'bob@b.mssante.fr'],
    ],
  },
  { type: 'macro', for: 'C', macros: [] },
  { type: 'connect', hostname: 'lps.ch-exemple.fr', family: 'inet', port: 41234, address: '192.0.2.10' },
  { type: 'connect', hostname: '[::1]', family: 'inet6', port: 1, address: '::1' },
  { type: 'connect', hostname: 'localhost', family: 'unix', port: 0, address: '/run/sock' },
  { type: 'connect', hostname: 'unknown', family: 'unknown' },
  { type: 'helo', name: 'lps.ch-exemple.fr' },
  { type: 'mail', args: ['<alice@ch-exemple.mssante.fr>', 'SIZE=1234', 'BODY=8BITMIME'] },
  { type: 'mail', args: ['<>'] },
  { type: 'rcpt', args: ['<bob@autre.mssante.fr>', 'NOTIFY=NEVER'] },
  { type: 'data' },
  { type: 'header', name: 'Subject', value: 'Compte rendu\n\tsuite' },
  { type: 'header', name: 'X-Empty', value: '' },
  { type: 'eoh' },
  { type: 'body', chunk: Buffer.from('line 1\r\nline 2\r\n') },
  { type: 'eom', chunk: Buffer.alloc(0) },
  { type: 'eom', chunk: Buffer.from('tail') },
  { type: 'abort' },
  { type: 'quit' },
  { type: 'quit-nc' },
  { type: 'unknown', command: 'XFOO bar' },
];

function decodeAll(bytes: Buffer, max = 1 << 20): Packet[] {
  return new PacketDecoder(max).push(bytes);
}

test('every MTA command survives encode → frame → parse unchanged', () => {
  for (const cmd of ALL_COMMANDS) {
    const packets = decodeAll(encodeCommand(cmd));
    assert.equal(packets.length, 1, cmd.type);
    assert.deepEqual(parseCommand(packets[0] as Packet), cmd, cmd.type);
  }
});

test('every milter response survives encode → frame → decode unchanged', () => {
  const all: MilterResponse[] = [
    { type: 'continue' },
    { type: 'accept' },
    { type: 'reject' },
    { type: 'tempfail' },
    { type: 'discard' },
    { type: 'progress' },
    { type: 'skip' },
    { type: 'replycode', reply: '550 5.7.1 Destinataire hors MSSante' },
    { type: 'addheader', name: 'X-MSS-Checked', value: 'yes' },
    { type: 'insheader', index: 0, name: 'X-First', value: 'a b' },
  ];
  for (const r of all) {
    const packets = decodeAll(encodeResponse(r));
    assert.equal(packets.length, 1);
    assert.deepEqual(decodeResponse(packets[0] as Packet), r);
  }
});

test('the decoder reassembles packets split at every byte and splits packets sent together', () => {
  const stream = Buffer.concat(ALL_COMMANDS.map(encodeCommand));
  // One byte at a time.
  const d = new PacketDecoder(1 << 20);
  const got: Packet[] = [];
  for (let i = 0; i < stream.length; i++) got.push(...d.push(stream.subarray(i, i + 1)));
  assert.equal(d.pending, 0);
  assert.deepEqual(got.map(parseCommand), ALL_COMMANDS);
  // Everything in one chunk.
  assert.deepEqual(decodeAll(stream).map(parseCommand), ALL_COMMANDS);
  // Uneven chunks that cut through length prefixes.
  const d2 = new PacketDecoder(1 << 20);
  const got2: Packet[] = [];
  for (let i = 0; i < stream.length; i += 7) got2.push(...d2.push(stream.subarray(i, i + 7)));
  assert.deepEqual(got2.map(parseCommand), ALL_COMMANDS);
});

test('issue #21 item 2: the decoder hands out one packet at a time: peek names it, skip drops it unbuilt, a packet cut by a chunk boundary is copied alone', () => {
  const body = (text: string): Buffer => encodeCommand({ type: 'body', chunk: Buffer.from(text) });
  const first = Buffer.concat([body('a'), body('bc'), body('d').subarray(0, 3)]);
  // A buffer of its own (not a slice of Node's shared pool), as a socket read gives.
  const parts = Buffer.concat([body('d').subarray(3), body('efg'), encodeCommand({ type: 'eoh' })]);
  const second = Buffer.alloc(parts.length);
  parts.copy(second);
  const d = new PacketDecoder(1 << 20);
  d.feed(first);
  assert.equal(d.peek(), 'B');
  assert.equal(d.peekedDataLength, 1);
  assert.equal(d.peek(), 'B', 'peek does not take the packet');
  d.skip();
  assert.deepEqual(parseCommand(d.next() as Packet), { type: 'body', chunk: Buffer.from('bc') });
  assert.equal(d.peek(), undefined, 'the third packet is not complete');
  assert.equal(d.pending, 3);
  d.feed(second);
  assert.equal(d.pending, 3 + second.length, 'received bytes are held as they came, not decoded ahead');
  assert.deepEqual(parseCommand(d.next() as Packet), { type: 'body', chunk: Buffer.from('d') });
  // The packet after the one cut in two is read in place from the second chunk: that chunk was not copied.
  const efg = d.next() as Packet;
  assert.deepEqual(parseCommand(efg), { type: 'body', chunk: Buffer.from('efg') });
  assert.equal(efg.data.buffer, second.buffer);
  assert.equal(d.peek(), 'N');
  d.skip();
  assert.equal(d.pending, 0);
  assert.equal(d.next(), undefined);
});

test('the decoder refuses a zero length and a length above the maximum before buffering the data', () => {
  const zero = Buffer.from([0, 0, 0, 0]);
  assert.throws(
    () => new PacketDecoder(100).push(zero),
    (e) => isMssError(e, 'MILTER_PACKET_EMPTY'),
  );
  const huge = Buffer.from([0x7f, 0xff, 0xff, 0xff, 0x42]);
  assert.throws(
    () => new PacketDecoder(1 << 20).push(huge),
    (e) => isMssError(e, 'MILTER_PACKET_TOO_LARGE'),
  );
  const justOver = encodePacket('B', Buffer.alloc(100));
  assert.throws(
    () => new PacketDecoder(100).push(justOver.subarray(0, 4)),
    (e) => isMssError(e, 'MILTER_PACKET_TOO_LARGE'),
  );
  assert.equal(new PacketDecoder(101).push(justOver).length, 1);
});

test('malformed command data is reported as MILTER_MALFORMED, unknown codes as MILTER_UNKNOWN_COMMAND', () => {
  const cases: Array<[string, Buffer]> = [
    ['O', Buffer.alloc(8)],
    ['D', Buffer.alloc(0)],
    ['D', Buffer.from('Ri\0')],
    ['C', Buffer.from('host')],
    ['C', Buffer.from('host\0')],
    ['C', Buffer.from('host\0X')],
    ['C', Buffer.from('host\x004\x00')],
    ['C', Buffer.from('host\x004\x00\x19addr')],
    ['C', Buffer.from('host\0U\0')],
    ['H', Buffer.from('a\0b\0')],
    ['H', Buffer.from('no-nul')],
    ['M', Buffer.alloc(0)],
    ['R', Buffer.from('<a@b>')],
    ['L', Buffer.from('Subject\0')],
    ['L', Buffer.from('\0value\0')],
    ['T', Buffer.from('x')],
    ['N', Buffer.from('x')],
    ['A', Buffer.from('x')],
    ['Q', Buffer.from('x')],
    ['U', Buffer.alloc(0)],
  ];
  for (const [code, data] of cases) {
    assert.throws(
      () => parseCommand({ code, data }),
      (e) => isMssError(e, 'MILTER_MALFORMED'),
      `${code} ${JSON.stringify(data.toString())}`,
    );
  }
  assert.throws(
    () => parseCommand({ code: 'z', data: Buffer.alloc(0) }),
    (e) => isMssError(e, 'MILTER_UNKNOWN_COMMAND'),
  );
});

test('custom replies are formatted as Postfix expects and validated', () => {
  assert.equal(formatReply({ code: 550, status: '5.7.1', text: 'Domaine example.com hors MSSante' }), '550 5.7.1 Domaine example.com hors MSSante');
  assert.equal(formatReply({ code: 452, status: '4.5.3', text: ['Too many', 'recipients'] }), '452-4.5.3 Too many\r\n452 4.5.3 recipients');
  assert.equal(formatReply({ code: 552, status: '5.3.4', text: '100% full' }), '552 5.3.4 100%% full');
  assert.deepEqual(parseReplyText('452-4.5.3 Too many\r\n452 4.5.3 100%% recipients'), { code: 452, status: '4.5.3', text: ['Too many', '100% recipients'] });
  const bad = [
    { code: 250, status: '2.0.0', text: 'ok' },
    { code: 550, status: '4.7.1', text: 'class mismatch' },
    { code: 550, status: '5.7', text: 'short status' },
    { code: 550.5, status: '5.7.1', text: 'not an integer' },
    { code: 550, status: '5.7.1', text: 'injected\r\n250 ok' },
    { code: 550, status: '5.7.1', text: 'nul\0' },
    { code: 550, status: '5.7.1', text: 'refusé' },
    { code: 550, status: '5.7.1', text: 'x'.repeat(600) },
    { code: 550, status: '5.7.1', text: [] },
  ];
  for (const r of bad)
    assert.throws(
      () => formatReply(r),
      (e) => isMssError(e, 'MILTER_REPLY_INVALID'),
      JSON.stringify(r).slice(0, 60),
    );
});

const HANDLER_WITH_RCPT_AND_EOM: Wanted = {
  connect: false,
  helo: false,
  mail: true,
  rcpt: true,
  data: false,
  header: false,
  eoh: true,
  addHeaders: true,
  macros: REQUESTED_MACROS,
};

test('negotiation with Postfix (protocol 6): header action and macro lists, no reply for steps the handler ignores', () => {
  const a = agree(POSTFIX_V6_OFFER, HANDLER_WITH_RCPT_AND_EOM);
  assert.equal(a.version, 6);
  assert.equal(a.actions, Action.ADDHDRS | Action.SETSYMLIST);
  for (const flag of [Proto.NR_CONN, Proto.NR_HELO, Proto.NR_DATA, Proto.NR_HDR, Proto.NR_BODY, Proto.NOUNKNOWN])
    assert.ok(a.protocol & flag, `flag 0x${flag.toString(16)}`);
  for (const flag of [Proto.NR_MAIL, Proto.NR_RCPT, Proto.NR_EOH, Proto.NOCONNECT, Proto.NOHDRS, Proto.NOBODY, Proto.HDR_LEADSPC, Proto.SKIP])
    assert.equal(a.protocol & flag, 0, `flag 0x${flag.toString(16)}`);
  assert.deepEqual([...a.replyExpected].sort(), ['E', 'M', 'N', 'R']);
  const packet = decodeAll(encodeAgreement(a, REQUESTED_MACROS))[0] as Packet;
  assert.equal(packet.code, 'O');
  const decoded = decodeAgreement(packet.data);
  assert.deepEqual(decoded.macros, REQUESTED_MACROS);
  assert.ok(decoded.macros.mail?.includes('{auth_authen}') && decoded.macros.mail.includes('{auth_type}'));
  assert.ok(decoded.macros.eom?.includes('i') && decoded.macros.eoh?.includes('i'));
  for (const m of ['{client_addr}', '{client_name}']) assert.ok(decoded.macros.connect?.includes(m));
  for (const m of ['{cert_subject}', '{tls_version}', '{cipher}']) assert.ok(decoded.macros.helo?.includes(m));
  assert.ok(decoded.macros.rcpt?.includes('{rcpt_addr}') && decoded.macros.mail.includes('{mail_addr}'));
});

test('negotiation honours what an older or stricter MTA offers, and refuses protocol 1', () => {
  const v2 = agree({ version: 2, actions: Action.ADDHDRS | Action.CHGBODY, protocol: 0x7f }, HANDLER_WITH_RCPT_AND_EOM);
  assert.equal(v2.version, 2);
  assert.equal(v2.actions, Action.ADDHDRS);
  assert.equal(v2.protocol, 0);
  assert.equal(v2.macroListsSent, false);
  assert.ok(v2.replyExpected.has('H') && v2.replyExpected.has('B') && v2.replyExpected.has('L'));
  const packet = decodeAll(encodeAgreement(v2, REQUESTED_MACROS))[0] as Packet;
  assert.equal(packet.data.length, 12);
  const noAdd = agree({ ...POSTFIX_V6_OFFER, actions: 0 }, HANDLER_WITH_RCPT_AND_EOM);
  assert.equal(noAdd.actions, 0);
  assert.throws(
    () => agree({ version: 1, actions: 0, protocol: 0 }, HANDLER_WITH_RCPT_AND_EOM),
    (e) => isMssError(e, 'MILTER_NEGOTIATION'),
  );
});

test('macros are kept per stage, found with or without braces, and cleared when the message ends', () => {
  const m = new MacroStore();
  m.define('C', [
    ['{client_addr}', '192.0.2.1'],
    ['j', 'mx'],
  ]);
  m.define('M', [
    ['{auth_authen}', 'alice@ch.mssante.fr'],
    ['i', 'Q1'],
  ]);
  m.define('R', [['{rcpt_addr}', 'a@x']]);
  m.define('R', [['{rcpt_addr}', 'b@x']]);
  m.define('E', [['i', 'Q2']]);
  assert.equal(m.get('{client_addr}'), '192.0.2.1');
  assert.equal(m.get('client_addr'), '192.0.2.1');
  assert.equal(m.get('rcpt_addr'), 'b@x');
  assert.equal(m.get('i'), 'Q2');
  assert.equal(m.at('mail', 'i'), 'Q1');
  assert.equal(m.define('Z', [['x', 'y']]), false);
  m.clearMessage();
  assert.equal(m.get('auth_authen'), undefined);
  assert.equal(m.get('j'), 'mx');
});

test('envelope arguments and header edits are parsed and checked', () => {
  assert.deepEqual(parseEnvelope(['<a@b.fr>', 'SIZE=10', 'smtputf8']), { address: 'a@b.fr', params: { SIZE: '10', SMTPUTF8: true } });
  assert.deepEqual(parseEnvelope(['<>']), { address: '', params: {} });
  checkHeader('X-MSS-Trace', 'value with spaces and é');
  checkHeader('X-Folded', 'first\r\n\tsecond');
  for (const [n, v] of [
    ['Bad Name', 'v'],
    ['Colon:', 'v'],
    ['', 'v'],
    ['X-Ok', 'a\r\nInjected: yes'],
    ['X-Ok', 'nul\0'],
    ['X-Ok', 'bare\rcr'],
  ]) {
    assert.throws(
      () => checkHeader(n as string, v as string),
      (e) => isMssError(e, 'MILTER_HEADER_INVALID'),
      `${n}: ${v}`,
    );
  }
});

test('issue 20: a reply packet encoded in one buffer (encodeReplyCode) is the SMFIR_REPLYCODE packet encodeResponse makes, one line or several', () => {
  for (const text of ['550 5.7.1 refused', '550-5.7.1 first\r\n550 5.7.1 last 100%%']) {
    assert.deepEqual(encodeReplyCode(text), encodeResponse({ type: 'replycode', reply: text }));
    assert.deepEqual(decodeResponse(new PacketDecoder(1 << 20).push(encodeReplyCode(text))[0] as Packet), { type: 'replycode', reply: text });
  }
});
