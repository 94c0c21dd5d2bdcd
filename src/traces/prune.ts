// `traces prune`: apply the retention the data controller configured (EX_GDT_5070) by
// removing whole day directories older than it, and record each pruning in the manifest
// so that `traces verify` tells pruned files from deleted ones.
import fs from 'node:fs';
import path from 'node:path';
import { listDays, utcDay } from '../util/day-files.js';
import { appendManifest } from './manifest.js';
import type { TraceCategory } from './record.js';

const DAY_MS = 86_400_000;

export interface PruneResult {
  category: TraceCategory;
  before: string;
  removedDays: string[];
}

export function pruneTraces(dir: string, retentionDays: Record<TraceCategory, number>, now: Date, dryRun = false): PruneResult[] {
  const results: PruneResult[] = [];
  for (const category of ['functional', 'technical'] as const) {
    const before = utcDay(now.getTime() - retentionDays[category] * DAY_MS);
    const root = path.join(dir, category);
    const removedDays = listDays(root).filter((d) => d < before);
    if (!dryRun && removedDays.length > 0) {
      // Recorded first: a crash halfway leaves files verify knows it may find missing.
      appendManifest(dir, { kind: 'prune', category, before, removed: removedDays.length, at: new Date().toISOString() });
      for (const day of removedDays) fs.rmSync(path.join(root, day), { recursive: true, force: true });
    }
    results.push({ category, before, removedDays });
  }
  return results;
}
