// Preloaded (`node --import`) into a CLI child to SIGKILL it at one point of the atomic
// replacement of registry.yaml (src/util/atomic-write.ts), as a power cut or an OOM kill
// would: MSS_TEST_CRASH=mid-write (half of the temporary file written), before-rename
// (temporary file complete and synced), after-rename (renamed, directory not yet synced).
import fs from 'node:fs';
import path from 'node:path';

const point = process.env.MSS_TEST_CRASH;
const TMP = /^\.registry\.yaml\..*\.tmp$/;
const tmpFds = new Set<number>();
const die = (): never => {
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
};

const { openSync, writeFileSync, renameSync } = fs;
fs.openSync = ((p: fs.PathLike, ...rest: unknown[]) => {
  const fd = (openSync as (...a: unknown[]) => number)(p, ...rest);
  if (TMP.test(path.basename(String(p)))) tmpFds.add(fd);
  return fd;
}) as typeof fs.openSync;
fs.writeFileSync = ((target: unknown, data: unknown, ...rest: unknown[]) => {
  if (point === 'mid-write' && typeof target === 'number' && tmpFds.has(target)) {
    const bytes = Buffer.from(data as string);
    fs.writeSync(target, bytes, 0, Math.floor(bytes.length / 2));
    fs.fsyncSync(target);
    die();
  }
  return (writeFileSync as (...a: unknown[]) => void)(target, data, ...rest);
}) as typeof fs.writeFileSync;
fs.renameSync = ((from: fs.PathLike, to: fs.PathLike) => {
  const ours = TMP.test(path.basename(String(from)));
  if (ours && point === 'before-rename') die();
  renameSync(from, to);
  if (ours && point === 'after-rename') die();
}) as typeof fs.renameSync;
