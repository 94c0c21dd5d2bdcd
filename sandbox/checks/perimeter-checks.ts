// The self-check's perimeter step (issue #12, docs/install.md "The perimeter"): on operator A,
// whose real Postfix and Dovecot run the shipped pieces, the doors around the sidecar are
// closed — the gates' loopback doors are unix sockets only Postfix and the sidecar open, mail
// written with `sendmail` meets the sending rules, every listed domain leaves through the
// outbound gate, and a password opens no MSSanté mailbox on 143. The bypass suite
// (test/integration/perimeter-*.test.ts) tries each door as an attacker would.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import { createLogger } from '../../src/log.js';
import { checkConfiguredRoutes, describeProblem } from '../../src/perimeter/route-check.js';
import { groupId } from '../../src/util/unix-socket.js';
import { LineConnection } from '../lps-client.js';
import { fail, pass, skip, type CheckContext, type CheckOutcome, type SelfCheckStep } from './check.js';
import { operator, operators } from './gate-checks.js';

const execFileAsync = promisify(execFile);

/** Only with real mail servers: the embedded sinks have no doors to close. */
function realOnly(name: string, run: (ctx: CheckContext) => Promise<CheckOutcome>): SelfCheckStep {
  return { name, run: (ctx) => (operators(ctx).mta === 'real' ? run(ctx) : Promise.resolve(skip('needs the real Postfix and Dovecot'))) };
}

export const perimeterChecks: SelfCheckStep[] = [
  realOnly("perimeter: the gates' loopback doors are unix sockets only Postfix and the sidecar can open", async (ctx) => {
    const out = ctx.config.gates.out.listen.endpoint;
    const inbound = ctx.config.gates.in.postfix.endpoint;
    if (out.kind !== 'unix' || inbound.kind !== 'unix') return fail(`a gate door is a TCP port: ${JSON.stringify({ out, inbound })}`);
    const sock = fs.statSync(out.path);
    const postfixGid = groupId('postfix', 'postfix', 'SANDBOX_CHECK');
    if ((sock.mode & 0o007) !== 0 || sock.gid !== postfixGid)
      return fail(`${out.path} has mode ${(sock.mode & 0o777).toString(8)}, gid ${sock.gid}: others could open it`);
    const publicDir = fs.statSync(inbound.path.replace(/\/[^/]+$/, ''));
    if ((publicDir.mode & 0o007) !== 0) return fail(`Postfix's public/ directory is open to others (mode ${(publicDir.mode & 0o777).toString(8)})`);
    return pass(`gate out: ${out.path} (mode 660, group postfix); gate in → ${inbound.path} (public/: no access for others)`);
  }),
  realOnly(
    "perimeter: `sendmail` on A's host is submission too — a sender not in submission.localSenders is refused by the milter, naming the rule",
    async (ctx) => {
      const a = operator(ctx, 'A');
      const pfDir = ctx.config.gates.out.postfixConfigDir;
      if (!pfDir) return fail('gates.out.postfixConfigDir is not set for operator A');
      const to = `perimeter-${Date.now()}@${operator(ctx, 'B').domains[0]}`;
      const child = execFileAsync('sendmail', ['-C', pfDir, '-f', a.mailboxes.person, '--', to]);
      child.child.stdin?.end(`From: <${a.mailboxes.person}>\nSubject: sandbox local submission\n\nbonjour\n`);
      await child;
      const maillog = pfDir.replace(/\/etc$/, '/maillog');
      const deadline = Date.now() + 20_000;
      for (;;) {
        const line = fs.existsSync(maillog)
          ? fs
              .readFileSync(maillog, 'utf8')
              .split('\n')
              .find((l) => l.includes(`to=<${to}>`) && /status=bounced/.test(l))
          : undefined;
        if (line) {
          const reason = /status=bounced \((.*)\)$/.exec(line)?.[1] ?? line;
          return /Local submission refused/.test(reason) ? pass(`Postfix bounced it: ${reason}`) : fail(`bounced for another reason: ${reason}`);
        }
        if (Date.now() > deadline) return fail(`no refusal of the message to ${to} in ${maillog} after 20 s`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
  ),
  realOnly("perimeter: every domain of the liste blanche not ours leaves A's Postfix through the outbound gate (postfix check-routes)", async (ctx) => {
    const r = await checkConfiguredRoutes(ctx.config, createLogger({ level: 'silent', pretty: false }));
    return r.problems.length === 0
      ? pass(`${r.domainsChecked} listed domains, ${r.sendersChecked} senders: every route ends at ${r.gate}`)
      : fail(r.problems.map((p) => describeProblem(p, r.sendersChecked)).join('; '));
  }),
  realOnly('perimeter: on 143, a password does not open an MSSanté mailbox (NO [AUTHENTICATIONFAILED])', async (ctx) => {
    const a = operator(ctx, 'A');
    if (!a.lps) return skip('no API LPS on this sandbox');
    const c = await LineConnection.open(a.lps.imap);
    try {
      await c.expect(/^\* OK/);
      c.send('p1 STARTTLS');
      await c.expect(/^p1 OK/);
      await c.startTls({ rejectUnauthorized: false });
      c.send(`p2 LOGIN "${a.mailboxes.person}" "any-password"`);
      const reply = (await c.expect(/^p2 /, 20_000)).line;
      return /^p2 NO \[AUTHENTICATIONFAILED\]/.test(reply) ? pass(`LOGIN ${a.mailboxes.person}: ${reply}`) : fail(`LOGIN ${a.mailboxes.person}: ${reply}`);
    } finally {
      c.destroy();
    }
  }),
];
