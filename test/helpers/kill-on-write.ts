// Preloaded (`node --import`) into a `serve` child to SIGKILL it at one exact point of its
// work, as a power cut or an OOM kill would: the MSS_TEST_KILL_ON_WRITE_COUNT-th time (1 by
// default) the process writes, on any socket, bytes matching MSS_TEST_KILL_ON_WRITE (a
// regular expression). Sockets carry
// what the tests need to aim at: the inbound gate's reply to its peer ("250 2.0.0 Ok:
// queued"), a command to Redis (the digest's commit). The write itself never leaves.
import net from 'node:net';

const pattern = process.env.MSS_TEST_KILL_ON_WRITE ? new RegExp(process.env.MSS_TEST_KILL_ON_WRITE) : undefined;
let left = Number(process.env.MSS_TEST_KILL_ON_WRITE_COUNT ?? 1);
const write = net.Socket.prototype.write as (...args: unknown[]) => boolean;
if (pattern) {
  net.Socket.prototype.write = function (this: net.Socket, chunk: unknown, ...rest: unknown[]): boolean {
    const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) && chunk.length < 65_536 ? chunk.toString('latin1') : '';
    if (pattern.test(text) && --left <= 0) process.kill(process.pid, 'SIGKILL');
    return write.call(this, chunk, ...rest);
  } as typeof net.Socket.prototype.write;
}
