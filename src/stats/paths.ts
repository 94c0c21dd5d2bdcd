// Where the statistics of a month live on disk: <stats.dir>/<AAAAMM>/ holds the CSV files,
// the archive sent, build.json (what the build counted) and the reports received.
import path from 'node:path';
import type { Config } from '../config/schema.js';

export function statsDir(config: Config): string {
  return config.stats.dir ?? path.join(config.state.dir, 'stats');
}

export function monthDir(config: Config, monthId: string): string {
  return path.join(statsDir(config), monthId);
}

export const archiveName = (monthId: string): string => `${monthId}_MSSante_statistiques.zip`;
