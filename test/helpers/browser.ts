// Debian's Chromium driven by playwright-core, for the portal's browser tests: no browser
// download (executablePath), one browser per test file, a fresh profile (playwright gives
// each launch its own temporary --user-data-dir and removes it), nothing that phones home.
// Screenshots go to a directory that outlives the run: CI keeps it as an artefact.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (scripts/install-system-deps.sh, run by make test)`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: 60_000 });
}

/** Where screenshots of `suite` go: $MSS_TEST_ARTIFACTS (or the system temp dir)/mss-sidecar-artifacts/<suite>. */
export function artifactsDir(suite: string): string {
  const dir = path.join(process.env.MSS_TEST_ARTIFACTS ?? path.join(os.tmpdir(), 'mss-sidecar-artifacts'), suite);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}
