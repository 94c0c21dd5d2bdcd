// Periodic full garbage collections during `stats build`, when the process allows them
// (`--expose-gc`, set by the stats unit: systemd/mss-sidecar-stats.service). The build streams
// the month, but V8 sizes its old generation for throughput: over a month of lines it lets
// promoted garbage and the ArrayBuffers of freed blocks (each piece the archive compresses
// leaves one of ~1 MiB) pile up for tens of megabytes before its first major collection
// (issue 20: peak RSS < 100 MB). One full collection per few MiB of CSV keeps them away, for
// a few milliseconds each (the live heap is ~15 MB). Without `--expose-gc` this does nothing.

/** Every this many CSV blocks (1 MiB each, csv-writer.ts): ~28 collections over 1,000,000 lines (+3 % CPU; −17 MiB of peak with MALLOC_ARENA_MAX=1, measured). */
export const BLOCKS_PER_COLLECTION = 4;

/** A function to call after each CSV block: every `every` calls, a full collection if exposed. */
export function collectorEvery(every = BLOCKS_PER_COLLECTION): () => void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== 'function') return () => {};
  let n = 0;
  return () => {
    if (++n % every === 0) gc();
  };
}
