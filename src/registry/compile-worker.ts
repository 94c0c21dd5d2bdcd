// Worker thread that parses and validates a registry file whose compiled cache is missing
// (a hand edit): ~13 s of CPU for 50,000 mailboxes that must not stall the daemon's event
// loop, which keeps answering with the previous registry meanwhile.
import { parentPort, workerData } from 'node:worker_threads';
import { asMssError } from '../errors.js';
import { loadRegistryText, readRegistryFile, type LoadOptions } from './load.js';

const { file, load } = workerData as { file: string; load: LoadOptions };
try {
  const r = loadRegistryText(file, readRegistryFile(file), load);
  parentPort?.postMessage({ ok: true, hash: r.registry.hash, entries: r.entries, warnings: r.registry.warnings });
} catch (err) {
  const e = asMssError(err);
  parentPort?.postMessage({ ok: false, error: { code: e.code, message: e.message, details: e.details } });
}
