// Fewer writes for the gates' SMTP/LMTP servers (issue 20). smtp-server writes every reply
// with its own socket write: a system call each, and over TLS a record each. The replies
// given within one turn of the event loop — those to a pipelined MAIL/RCPT…/DATA batch
// (RFC 2920), the per-recipient replies of LMTP after the final dot — now leave in one
// write: the socket is corked at the first reply of the turn and uncorked by setImmediate,
// once the turn's callbacks, ticks and promise reactions have run (the inbound gate judges
// MAIL and RCPT in promises: a process.nextTick would flush before their replies). Nothing
// is reordered, dropped or answered earlier; a reply waits at most for the rest of the
// current turn of the event loop.
//
// A reply after which the socket changes hands is written at once, with whatever waits
// before it: 220 (the greeting, and STARTTLS's go-ahead, after which smtp-server wraps the
// raw socket in TLS — a byte still corked in the raw socket would then land in the middle of
// the handshake), 221 and 421 (the connection closes).
import type { Socket } from 'node:net';
import type { SMTPServer } from 'smtp-server';
import { MssError } from '../errors.js';

/** The part of smtp-server's SMTPConnection this reaches into (3.x: `send`, `_socket`). */
interface Connection {
  send: (code: number, ...rest: unknown[]) => void;
  _socket?: Socket;
}

const FLUSH_AT_ONCE = new Set([220, 221, 421]);

/** The sockets corked by us until the end of the current turn. */
const corked = new WeakSet<Socket>();

function release(socket: Socket): void {
  if (!corked.delete(socket)) return;
  if (socket.writableCorked > 0) socket.uncork();
}

function coalesce(connection: Connection): void {
  const send = connection.send;
  connection.send = function (this: Connection, code: number, ...rest: unknown[]): void {
    const socket = this._socket;
    if (!socket || socket.destroyed) return send.call(this, code, ...rest);
    if (FLUSH_AT_ONCE.has(code)) {
      send.call(this, code, ...rest);
      release(socket);
      return;
    }
    if (!corked.has(socket)) {
      corked.add(socket);
      socket.cork();
      setImmediate(release, socket);
    }
    send.call(this, code, ...rest);
  };
}

/**
 * Coalesce the replies of every connection `server` accepts from now on. smtp-server keeps
 * its connections in a Set it adds each one to before greeting it: the hook is there.
 */
export function coalesceReplies(server: SMTPServer): void {
  const connections = (server as unknown as { connections?: unknown }).connections;
  // smtp-server is pinned (package.json); an upgrade that moved this fails loudly at start.
  if (!(connections instanceof Set))
    throw new MssError('GATE_REPLY_HOOK', 'smtp-server keeps no `connections` Set: reply coalescing cannot hook in (smtp-server upgraded?)');
  const set = connections as Set<Connection>;
  const add = set.add.bind(set);
  set.add = (connection: Connection): Set<Connection> => {
    if (typeof connection.send === 'function') coalesce(connection);
    return add(connection);
  };
}
