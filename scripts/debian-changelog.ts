// Writes debian/changelog from CHANGELOG.md for the version in package.json (the one place
// the version is written), so that the Debian package's changelog and version follow the
// project's. Run by debian/build-deb.sh (`make deb`):
//   node dist/scripts/debian-changelog.js            write debian/changelog, print the Debian version
// It refuses a version that CHANGELOG.md has no section for: a release is written down
// before it is built.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const WIDTH = 78;

export interface Release {
  version: string;
  date: string;
  /** Lines of the section, Markdown, headings of level 3 and bullets. */
  body: string[];
}

/** The `## [x.y.z] - YYYY-MM-DD` sections of a Keep-a-Changelog file, newest first. */
export function releasesOf(markdown: string): Release[] {
  const out: Release[] = [];
  let current: Release | undefined;
  for (const line of markdown.split('\n')) {
    const h = /^## \[([^\]]+)\](?:\s+-\s+(\d{4}-\d{2}-\d{2}))?\s*$/.exec(line);
    if (h) {
      current = undefined;
      if ((h[1] as string).toLowerCase() === 'unreleased') continue;
      if (!h[2]) throw new Error(`CHANGELOG.md: "${line}" has no date (## [x.y.z] - YYYY-MM-DD)`);
      current = { version: h[1] as string, date: h[2], body: [] };
      out.push(current);
    } else if (/^#{1,2} /.test(line)) {
      current = undefined;
    } else if (current) {
      current.body.push(line);
    }
  }
  return out;
}

/** A semver version as a Debian version: a pre-release sorts before its release (`~`). */
export function debianVersion(semver: string): string {
  if (!/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/.test(semver)) throw new Error(`package.json: version "${semver}" is not x.y.z[-pre][+build]`);
  return semver.replace(/^(\d+\.\d+\.\d+)-/, '$1~');
}

function wrap(text: string, first: string, rest: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line === '') line = first + word;
    else if (line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = rest + word;
    } else line += ` ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** One Debian changelog entry: `### Added` becomes "  Added:", each bullet a `*` item. */
export function debianEntry(release: Release, maintainer: string, distribution = 'bookworm'): string {
  const lines = [`mss-sidecar (${debianVersion(release.version)}) ${distribution}; urgency=medium`, ''];
  let item: string | undefined;
  const flush = (): void => {
    if (item !== undefined) lines.push(...wrap(item, '  * ', '    '));
    item = undefined;
  };
  for (const raw of release.body) {
    const heading = /^### (.+)$/.exec(raw);
    const bullet = /^\s*[-*] (.*)$/.exec(raw);
    if (heading) {
      flush();
      lines.push(`  ${heading[1]}:`);
    } else if (bullet) {
      flush();
      item = bullet[1] as string;
    } else if (raw.trim() === '') {
      flush();
    } else {
      // A bullet's continuation line, or a paragraph (which becomes an item of its own).
      item = item === undefined ? raw.trim() : `${item} ${raw.trim()}`;
    }
  }
  flush();
  if (lines.length === 2) lines.push('  * No entry in CHANGELOG.md.');
  const date = new Date(`${release.date}T00:00:00Z`).toUTCString().replace('GMT', '+0000');
  lines.push('', ` -- ${maintainer}  ${date}`, '');
  return lines.join('\n');
}

/** The whole debian/changelog: every dated release, newest first; the first is `version`. */
export function debianChangelog(markdown: string, version: string, maintainer: string): string {
  const releases = releasesOf(markdown);
  const i = releases.findIndex((r) => r.version === version);
  if (i < 0)
    throw new Error(`CHANGELOG.md has no section "## [${version}] - YYYY-MM-DD" for the version in package.json: write it before building the package`);
  return releases
    .slice(i)
    .map((r) => debianEntry(r, maintainer))
    .join('\n');
}

function main(): void {
  const version = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const control = fs.readFileSync(path.join(ROOT, 'debian', 'control'), 'utf8');
  const maintainer = /^Maintainer:\s*(.+)$/m.exec(control)?.[1];
  if (!maintainer) throw new Error('debian/control has no Maintainer field');
  const text = debianChangelog(fs.readFileSync(path.join(ROOT, 'CHANGELOG.md'), 'utf8'), version, maintainer.trim());
  fs.writeFileSync(path.join(ROOT, 'debian', 'changelog'), text);
  process.stdout.write(`${debianVersion(version)}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  try {
    main();
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
