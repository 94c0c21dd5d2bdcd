// Lists the npm modules a node_modules directory holds, with their version and license, for
// /usr/share/doc/mss-sidecar/bundled-modules.txt: the Debian package carries its production
// node_modules, and a site's security team needs to know which versions it runs.
//   node dist/scripts/bundled-modules.js NODE_MODULES_DIR > bundled-modules.txt
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BundledModule {
  name: string;
  version: string;
  license: string;
  /** Relative to the node_modules directory listed. */
  dir: string;
}

function licenseOf(pkg: { license?: unknown; licenses?: unknown }): string {
  if (typeof pkg.license === 'string') return pkg.license;
  if (pkg.license && typeof pkg.license === 'object' && 'type' in pkg.license) return String((pkg.license as { type: unknown }).type);
  if (Array.isArray(pkg.licenses)) return pkg.licenses.map((l: { type?: unknown }) => String(l?.type ?? l)).join(' OR ');
  return 'UNKNOWN (see the module directory)';
}

/** Every package directory under `root` (scoped and nested node_modules included). */
export function bundledModules(root: string): BundledModule[] {
  const out: BundledModule[] = [];
  const visit = (nodeModules: string): void => {
    if (!fs.existsSync(nodeModules)) return;
    for (const entry of fs.readdirSync(nodeModules, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      const dirs = entry.name.startsWith('@')
        ? fs
            .readdirSync(path.join(nodeModules, entry.name), { withFileTypes: true })
            .filter((e) => e.isDirectory())
            .map((e) => path.join(nodeModules, entry.name, e.name))
        : [path.join(nodeModules, entry.name)];
      for (const dir of dirs) {
        const manifest = path.join(dir, 'package.json');
        if (!fs.existsSync(manifest)) continue;
        const pkg = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string; version?: string; license?: unknown; licenses?: unknown };
        if (pkg.name && pkg.version) out.push({ name: pkg.name, version: pkg.version, license: licenseOf(pkg), dir: path.relative(root, dir) });
        visit(path.join(dir, 'node_modules'));
      }
    }
  };
  visit(root);
  return out.sort((a, b) => a.dir.localeCompare(b.dir));
}

export function render(modules: BundledModule[]): string {
  const lines = [
    'npm modules bundled in /usr/share/mss-sidecar/node_modules (production dependencies of',
    "package-lock.json, no dev dependencies). Each module's license text is in its directory.",
    '',
    ...modules.map((m) => `${m.name} ${m.version}  ${m.license}`),
    '',
  ];
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const dir = process.argv[2];
  if (!dir || !fs.existsSync(dir)) {
    process.stderr.write('usage: node dist/scripts/bundled-modules.js NODE_MODULES_DIR\n');
    process.exit(2);
  }
  process.stdout.write(render(bundledModules(dir)));
}
