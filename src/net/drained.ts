// Waiting for a socket to take more: once what was written has left ('drain'), or the
// socket is gone ('close', so a waiter never hangs on a dead peer).
import type { Writable } from 'node:stream';

export function drained(socket: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.once('drain', done);
    socket.once('close', done);
  });
}
