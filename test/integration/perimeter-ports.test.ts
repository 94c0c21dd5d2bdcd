// The bypass suite, loopback doors (issue #12 follow-up): the listeners between Postfix, Dovecot
// and the sidecar, tried as an attacker on the same host would while their owner is stopped (a
// restart, a crash): another Unix user binds the address the shipped configuration names, and
// answers in the owner's place — "ok" to Dovecot's Lua passdb, "accept" to Postfix for every
// message, the LPS sessions the fronts hand over, Dovecot's content events (and their spool). Each test takes the
// door from the shipped defaults on both sides (the sidecar's configuration schema and the
// Postfix or Dovecot piece, which must agree), then tries to take it as an unprivileged user:
// a TCP port at or above net.ipv4.ip_unprivileged_port_start would be taken, so each test fails
// if its door went back to one (as the defaults were: 8425, 10028, 8426, 10143, 10587).
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, test } from 'node:test';
import { configSchema, type Config } from '../../src/config/schema.js';
import { createLogger } from '../../src/log.js';
import { decide } from '../../src/milter/handler.js';
import { DEFAULT_MILTER_LISTEN, parseListen, type ListenSpec } from '../../src/milter/config.js';
import { MilterServer } from '../../src/milter/server.js';
import { PostfixInstance } from '../../sandbox/mta/postfix-instance.js';
import { SUBMISSION_SERVICE } from '../../sandbox/mta/postfix-pieces.js';
import { postfixServiceEntry } from '../../sandbox/mta/shipped-config.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { mainPieces } from '../helpers/postfix-pieces.js';
import { SmtpClient } from '../helpers/smtp-client.js';
import { tmpDir } from '../helpers/tmp.js';
import { strangerUid } from '../helpers/unix-user.js';
import { DovecotEventsSpoolReader } from '../../src/traces/dovecot-events-spool-reader.js';
import { DovecotEventsSpoolWriter } from '../../src/traces/dovecot-events-spool.js';
import { listSegments } from '../../src/traces/dovecot-events-spool-files.js';

const execFileAsync = promisify(execFile);
const scratch = tmpDir('mss-perimeter-ports-');

/** The configuration a site gets from the shipped defaults, with every service of these doors on. */
function shippedConfig(): Config {
  return configSchema.parse({
    operator: { name: 'x', domains: ['a.mssante.fr'], structureId: '1130099991', certificate: '/c', key: '/k' },
    trust: { dir: '/t' },
    milter: { enabled: true },
    auth: {
      psc: { audience: 'x' },
      front: { imap: { listen: { host: '192.0.2.1' } }, submission: { listen: { host: '192.0.2.1' } } },
      authCli: { enabled: true, imap: { listen: { host: '192.0.2.2' } }, submission: { listen: { host: '192.0.2.2' } }, certificate: '/c', key: '/k' },
    },
    traces: { dovecotEvents: { enabled: true } },
  });
}

const shipped = (file: string): string => fs.readFileSync(path.join(REPO_ROOT, file), 'utf8');
const endpoint = (ep: { host: string; port: number }): string => `${ep.host}:${ep.port}`;

/**
 * As `uid` (no supplementary group), try to listen where the owner would: `TAKEN` when it could
 * (it would now answer in the owner's place), else `ERROR <code>`.
 */
async function takeAs(uid: number, spec: ListenSpec): Promise<string> {
  const script = path.join(scratch, 'take.mjs');
  fs.writeFileSync(
    script,
    `import net from 'node:net';
const spec = JSON.parse(process.argv[2]);
const server = net.createServer();
server.on('error', (e) => { process.stdout.write('ERROR ' + e.code); process.exit(0); });
const taken = () => { process.stdout.write('TAKEN'); server.close(); };
if (spec.kind === 'unix') server.listen(spec.path, taken); else server.listen({ host: spec.host, port: spec.port, exclusive: true }, taken);
`,
    { mode: 0o644 },
  );
  const { stdout } = await execFileAsync('setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', process.execPath, script, JSON.stringify(spec)], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  return stdout;
}

/** The kernel refuses the bind itself (EACCES) before looking at who else listens there: the answer does not depend on another test holding the port. */
async function assertNotTakeable(host: string, port: number, door: string): Promise<void> {
  assert.equal(await takeAs(strangerUid(), { kind: 'inet', host, port }), 'ERROR EACCES', `${door}: another Unix user took ${host}:${port}`);
  const start = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').trim());
  assert.ok(port < start, `${door}: ${host}:${port} is at or above net.ipv4.ip_unprivileged_port_start (${start})`);
}

test('EX_LPS_0900 (the checker\'s door): the checker Dovecot\'s Lua passdb asks is a port no other Unix user can bind while `serve` is stopped, so none can answer "ok" for any mailbox', async () => {
  const checker = shippedConfig().auth?.checker.listen;
  assert.ok(checker);
  // The door Dovecot really knocks at: the shipped piece's URL and the script's fallback.
  const url = `http://${endpoint(checker)}/v1/xoauth2`;
  assert.match(shipped('dovecot/conf.d/90-mss-lps.conf'), new RegExp(`MSS_AUTH_CHECKER_URL=${url.replace(/\./g, '\\.')}\\n`));
  assert.ok(shipped('dovecot/mss-lps-auth.lua').includes(`or "${url}"`), `mss-lps-auth.lua falls back to ${url}`);
  await assertNotTakeable(checker.host, checker.port, 'auth.checker.listen');
});

test("EX_GDT_5030 (Dovecot events' door): the endpoint Dovecot's event exporter posts content events to is the listener of the shipped spool writer, a service of Dovecot's master (bound by it as long as Dovecot runs), run as the service user, on a port no other Unix user can bind while Dovecot is stopped, so none can read them", async () => {
  const events = shippedConfig().traces.dovecotEvents.listen;
  assert.equal(events.host, '127.0.0.1');
  const piece = shipped('dovecot/conf.d/91-mss-mail-log.conf');
  const service = /\nservice mss-dovecot-events \{([\s\S]*?)\n\}/.exec(piece)?.[1] ?? '';
  const m = /inet_listener mss-dovecot-events \{\s+address = (\S+)\s+port = (\d+)\s+\}/.exec(service);
  assert.ok(m, '91-mss-mail-log.conf: the mss-dovecot-events listener');
  assert.deepEqual({ host: m[1], port: Number(m[2]) }, events, 'traces.dovecotEvents.listen is the shipped listener');
  assert.match(service, /\n\s*user = mss-sidecar\n/, "the spool's writer runs as the service user (the spool is its, 0700)");
  assert.match(service, /\n\s*process_limit = 1\n/, 'one writer');
  await assertNotTakeable(events.host, events.port, 'traces.dovecotEvents.listen');
});

test("EX_GDT_5030 (Dovecot events' spool): another Unix user can neither read the spooled events (users, folders, addresses) and serve's position, nor write an event or a position there", async () => {
  const dir = tmpDir('mss-perimeter-spool-');
  fs.chmodSync(dir, 0o755); // the way to the spool is open: its own modes are what is tested
  const urlFile = path.join(dir, 'dovecot-events.url');
  fs.writeFileSync(urlFile, `http://127.0.0.1:426/v1/dovecot-events/${'k'.repeat(32)}`);
  const writer = new DovecotEventsSpoolWriter({ urlFile, report: () => undefined });
  writer.append(Buffer.from('{"event":"imap_command_finished","fields":{"user":"jean@a.mssante.fr"}}'));
  await writer.close();
  const reader = new DovecotEventsSpoolReader(writer.dir, 65_536);
  reader.commit(reader.next().position);
  const segment = path.join(writer.dir, listSegments(writer.dir)[0] as string);
  const position = path.join(writer.dir, 'position.json');
  const script = path.join(scratch, 'spool-as.mjs');
  fs.writeFileSync(
    script,
    `import fs from 'node:fs';
const out = [];
for (const [file, flags] of JSON.parse(process.argv[2])) {
  try { fs.closeSync(fs.openSync(file, flags, 0o666)); out.push('OPENED ' + file); } catch (e) { out.push(e.code); }
}
process.stdout.write(out.join(' '));
`,
    { mode: 0o644 },
  );
  const tries = [
    [segment, 'r'],
    [segment, 'a'],
    [position, 'r'],
    [position, 'w'],
    [path.join(writer.dir, '999999999999.jsonl'), 'wx'],
  ];
  const uid = strangerUid();
  const { stdout } = await execFileAsync('setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', process.execPath, script, JSON.stringify(tries)], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(stdout, tries.map(() => 'EACCES').join(' '));
});

test("EX_LPS_1000 (Dovecot's door behind the IMAP front): Dovecot's imap-mss-lps listener, where the IMAP fronts hand the LPS sessions, is a port no other Unix user can bind while Dovecot is stopped", async () => {
  const c = shippedConfig();
  const piece = shipped('dovecot/conf.d/90-mss-lps.conf');
  const m = /inet_listener imap-mss-lps \{[^}]*?address = (\S+)\s+port = (\d+)\s+haproxy = yes/.exec(piece);
  assert.ok(m, '90-mss-lps.conf: the imap-mss-lps listener');
  const dovecot = { host: m[1] as string, port: Number(m[2]) };
  assert.deepEqual(c.auth?.front.imap.backend, dovecot, 'auth.front.imap.backend is the shipped listener');
  assert.deepEqual(c.auth?.authCli?.imap.backend, dovecot, 'auth.authCli.imap.backend is the shipped listener');
  await assertNotTakeable(dovecot.host, dovecot.port, 'imap-mss-lps');
});

test("EX_LPS_1000 (Postfix's door behind the 587 front): Postfix's LPS submission service, where the submission fronts hand the LPS sessions, is a port no other Unix user can bind while Postfix is stopped", async () => {
  const c = shippedConfig();
  const entry = postfixServiceEntry(SUBMISSION_SERVICE);
  const m = /^(127\.0\.0\.1):(\d+)\s+inet\s/.exec(entry ?? '');
  assert.ok(m, `postfix/master.cf.d: ${SUBMISSION_SERVICE}`);
  const postfix = { host: m[1] as string, port: Number(m[2]) };
  assert.deepEqual(c.auth?.front.submission.backend, postfix, 'auth.front.submission.backend is the shipped service');
  assert.deepEqual(c.auth?.authCli?.submission.backend, postfix, 'auth.authCli.submission.backend is the shipped service');
  await assertNotTakeable(postfix.host, postfix.port, SUBMISSION_SERVICE);
});

// The milter's door, on a real Postfix 3.7: the shipped endpoint in a queue directory of its own.
const SPOOL = '/var/spool/postfix';
let postfix: PostfixInstance | undefined;
let milter: MilterServer | undefined;
after(async () => {
  await postfix?.stop();
  await milter?.stop(100);
});

test("EX_GBM_4420 (the milter's door): Postfix's smtpd, chrooted as on Debian, reaches the milter at the shipped endpoint; while the milter is stopped no other Unix user can put a socket there, and Postfix defers (451) instead of accepting", async () => {
  const listen = parseListen(DEFAULT_MILTER_LISTEN);
  assert.ok(listen);
  if (listen.kind === 'inet') {
    // A TCP milter endpoint: the same check as the ports above (the defaults before this change).
    await assertNotTakeable(listen.host, listen.port, 'milter.listen');
    return;
  }
  // The package makes the socket's directory (debian/mss-sidecar.postinst); this test makes it
  // the same way under its own queue directory, owned by root (the sidecar in this test).
  const make = /install -d -o mss-sidecar -g (\S+) -m (0[0-7]{3}) \/var\/spool\/postfix\/mss-sidecar\n/.exec(shipped('debian/mss-sidecar.postinst'));
  assert.ok(make, "debian/mss-sidecar.postinst makes the milter's directory");
  assert.ok(listen.path.startsWith(`${SPOOL}/`), `${DEFAULT_MILTER_LISTEN} is under Postfix's queue directory (its chroot)`);
  const relative = path.relative(SPOOL, listen.path);
  assert.equal(path.dirname(relative), 'mss-sidecar');
  const root = path.join(scratch, 'postfix');
  const queue = path.join(root, 'queue');
  const socket = path.join(queue, relative);
  fs.mkdirSync(path.dirname(socket), { recursive: true, mode: 0o755 });
  fs.chmodSync(path.dirname(socket), parseInt(make[2] as string, 8));
  execFileSync('chgrp', [make[1] as string, path.dirname(socket)]);

  const log = createLogger({ level: 'silent', pretty: false });
  const cfg = shippedConfig().milter;
  milter = new MilterServer({
    listen: { kind: 'unix', path: socket },
    socketMode: cfg.socketMode,
    socketGroup: cfg.socketGroup,
    log,
    handler: { mail: (_ctx, sender) => (sender.address.startsWith('usurper@') ? decide.reply(553, '5.7.1', 'judged by the milter') : undefined) },
  });
  await milter.start();
  const port = await freePort();
  // The shipped mss_submission_milter as it is (unix:mss-sidecar/milter.sock, relative to
  // queue_directory), on an smtpd with chroot = y, as Debian's master.cf has them.
  const shippedMilter = mainPieces().mss_submission_milter ?? '';
  postfix = new PostfixInstance({
    dir: root,
    myhostname: 'mx.a.test',
    main: { mss_submission_milter: shippedMilter },
    services: [`127.0.0.1:${port} inet n - y - - smtpd\n  -o smtpd_milters=$mss_submission_milter`],
  });
  await postfix.start();
  const mailFrom = async (sender: string): Promise<string> => {
    const c = await SmtpClient.connect(port);
    await c.command('EHLO lps.a.test');
    const r = await c.command(`MAIL FROM:<${sender}>`);
    await c.quit().catch(() => undefined);
    return `${r.code} ${r.text}`;
  };
  assert.equal(
    await mailFrom('usurper@a.mssante.fr'),
    '553 5.7.1 judged by the milter',
    `Postfix reached the milter through ${shippedMilter}:\n${postfix.maillog().slice(-2000)}`,
  );

  await milter.stop(100);
  milter = undefined;
  // Stopped: as another Unix user, listen where the milter did.
  assert.equal(
    await takeAs(strangerUid(), { kind: 'unix', path: socket }),
    'ERROR EACCES',
    'another Unix user put a socket where Postfix looks for the milter',
  );
  assert.equal(fs.existsSync(socket), false);
  // And Postfix accepts nothing unjudged meanwhile (default_action=tempfail).
  assert.match(await mailFrom('alice@a.mssante.fr'), /^451 4\.7\.1 /);
});
