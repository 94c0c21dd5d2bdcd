// `serve`'s dovecot-events service alone in a process of its own, so that a test can stop it
// with SIGKILL as a crash would: node dovecot-events-worker.js <url file> <port> <traces dir> <store dir>.
// Prints "ready" once started, "idle <traced>" each time the spool is drained.
import path from 'node:path';
import { EmbeddedStore } from '../../src/store/embedded.js';
import { DovecotEventsService } from '../../src/traces/dovecot-events-service.js';
import { DovecotSessions } from '../../src/traces/dovecot-sessions.js';
import { TraceLog } from '../../src/traces/trace-log.js';
import { silentLogger } from '../../src/log.js';

const [urlFile, port, tracesDir, storeDir] = process.argv.slice(2) as [string, string, string, string];
const store = new EmbeddedStore(storeDir);
const traces = new TraceLog(tracesDir, { syncDelayMs: 0 });
const service = new DovecotEventsService({
  listen: { host: '127.0.0.1', port: Number(port) },
  urlFile,
  maxEventBytes: 65_536,
  traces,
  sessions: new DovecotSessions(store, 0),
  log: silentLogger,
  pollMs: 100,
});
await service.start();
process.stdout.write(`ready ${path.basename(urlFile)}\n`);
setInterval(() => void service.idle().then(() => process.stdout.write(`idle ${service.counts.traced}\n`)), 200);
process.on(
  'SIGTERM',
  () =>
    void service
      .stop()
      .then(() => (traces.close(), store.close()))
      .then(() => process.exit(0)),
);
