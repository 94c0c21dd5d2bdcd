// Preloaded (`node --import`) into a `serve` child to SIGKILL it at one exact point of its
// work, as a power cut or an OOM kill would: the MSS_TEST_KILL_ON_WRITE_COUNT-th time (1 by
// default) the process writes, on any socket, bytes matching MSS_TEST_KILL_ON_WRITE (a
// regular expression) — or, with MSS_TEST_KILL_ON_FILE_WRITE instead, with fs.writeSync to
// a file. They carry what the tests need to aim at: the inbound gate's reply to its peer
// ("250 2.0.0 Ok: queued"), a command to Redis, a line of the embedded store's digest log
// (the digest's commit). The write itself never happens.
import fs from 'node:fs';
import net from 'node:net';

const pattern = process.env.MSS_TEST_KILL_ON_WRITE ? new RegExp(process.env.MSS_TEST_KILL_ON_WRITE) : undefined;
const filePattern = process.env.MSS_TEST_KILL_ON_FILE_WRITE ? new RegExp(process.env.MSS_TEST_KILL_ON_FILE_WRITE) : undefined;
let left = Number(process.env.MSS_TEST_KILL_ON_WRITE_COUNT ?? 1);
const write = net.Socket.prototype.write as (...args: unknown[]) => boolean;
if (pattern) {
  net.Socket.prototype.write = function (this: net.Socket, chunk: unknown, ...rest: unknown[]): boolean {
    const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) && chunk.length < 65_536 ? chunk.toString('latin1') : '';
    if (pattern.test(text) && --left <= 0) process.kill(process.pid, 'SIGKILL');
    return write.call(this, chunk, ...rest);
  } as typeof net.Socket.prototype.write;
}
if (filePattern) {
  const writeSync = fs.writeSync as (...args: unknown[]) => number;
  (fs as { writeSync: unknown }).writeSync = (fd: number, data: unknown, ...rest: unknown[]): number => {
    const text = typeof data === 'string' ? data : Buffer.isBuffer(data) && data.length < 65_536 ? data.toString('latin1') : '';
    if (filePattern.test(text) && --left <= 0) process.kill(process.pid, 'SIGKILL');
    return writeSync(fd, data, ...rest);
  };
}
