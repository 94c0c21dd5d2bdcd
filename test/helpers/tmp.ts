// Temporary directories removed when the test process ends, whatever the outcome.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const created: string[] = [];
let hooked = false;

/**
 * A fresh directory, mode 0755 so that Postfix and Dovecot workers (which drop root) can
 * traverse it; files holding keys are created 0600 by the code that writes them.
 */
export function tmpDir(prefix = 'mss-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o755);
  created.push(dir);
  if (!hooked) {
    hooked = true;
    // At process exit, not in a node:test `after()`: an `after()` registered from inside a
    // `before()` hook runs when that hook ends, which would delete a running server's files.
    process.once('exit', () => {
      if (process.env.MSS_KEEP_TMP === '1') return;
      for (const d of created) fs.rmSync(d, { recursive: true, force: true });
    });
  }
  return dir;
}
