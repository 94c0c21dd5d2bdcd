// This software's version. package.json is the one place it is written: `mss-sidecar
// --version`, the Debian package (debian/build-deb.sh) and the Annuaire's LPS_Version all
// read it from there.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MssError } from './errors.js';

// dist/src/version.js → the package.json beside dist/ (the repository, or
// /usr/share/mss-sidecar in the Debian package).
const PACKAGE_JSON = fileURLToPath(new URL('../../package.json', import.meta.url));

let version: string | undefined;

/** The `version` of package.json; VERSION_UNKNOWN when the installation lost it. */
export function softwareVersion(): string {
  if (version === undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(fs.readFileSync(PACKAGE_JSON, 'utf8'));
    } catch (err) {
      throw new MssError('VERSION_UNKNOWN', `cannot read the version from ${PACKAGE_JSON}: ${(err as Error).message}`, { file: PACKAGE_JSON });
    }
    const v = (parsed as { version?: unknown }).version;
    if (typeof v !== 'string' || v === '') throw new MssError('VERSION_UNKNOWN', `${PACKAGE_JSON} has no "version"`, { file: PACKAGE_JSON });
    version = v;
  }
  return version;
}
