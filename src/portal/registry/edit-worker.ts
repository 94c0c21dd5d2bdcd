// Worker thread running the portal's registry changes: the registry operations are
// synchronous (file lock, parse, validate, atomic write; ~1 s for 50,000 mailboxes, and a
// lock held by a CLI command is waited for), and the daemon's event loop also serves the
// IMAP/SMTP logins and the gates. One change at a time, in arrival order. The operations
// are exactly the CLI's (src/registry/operations.ts): same validation, same traces, here
// naming the signed-in professional as the actor and the requester.
import { parentPort, workerData } from 'node:worker_threads';
import { asMssError } from '../../errors.js';
import type { LoadOptions } from '../../registry/load.js';
import * as ops from '../../registry/operations.js';
import { TraceLog } from '../../traces/trace-log.js';
import type { EditReply, EditRequest } from './edit-protocol.js';

const { file, load, tracesDir } = workerData as { file: string; load: LoadOptions; tracesDir: string };
const traces = new TraceLog(tracesDir);

function run(r: EditRequest): ops.ChangeResult {
  const env: ops.EditEnv = { file, load, traces, actor: r.who.actor, means: r.who.means, ...(r.who.address ? { address: r.who.address } : {}) };
  const by = r.requestedBy;
  switch (r.op) {
    case 'setListeRouge':
      return ops.setListeRouge(env, r.address, r.args.on, by);
    case 'addDelegate':
      return ops.addDelegate(env, r.address, r.args, by);
    case 'changeDelegate':
      return ops.changeDelegate(env, r.address, r.args.idNat, { name: r.args.name, ...(r.args.for ? { for: r.args.for } : {}) }, by);
    case 'revokeDelegate':
      return ops.revokeDelegate(env, r.address, r.args.idNat, by);
    case 'addCoHolder':
      return ops.addCoHolder(env, r.address, r.args, by);
    case 'removeCoHolder':
      return ops.removeCoHolder(env, r.address, r.args.idNat, by);
    case 'setResponsible':
      return ops.setResponsible(env, r.address, r.args, by);
    case 'setDescription':
      return ops.setDescription(env, r.address, r.args.description, by);
  }
}

parentPort?.on('message', (msg: EditRequest | { close: true }) => {
  if ('close' in msg) {
    traces.close();
    parentPort?.close();
    return;
  }
  let reply: EditReply;
  try {
    const result = run(msg);
    reply = { id: msg.id, ok: true, warnings: result.warnings.map((w) => `${w.rule}: ${w.message}`) };
  } catch (err) {
    const e = asMssError(err);
    reply = { id: msg.id, ok: false, error: { code: e.code, message: e.message } };
  }
  parentPort?.postMessage(reply);
});
