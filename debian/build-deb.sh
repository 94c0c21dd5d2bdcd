#!/usr/bin/env bash
# Builds build/mss-sidecar_<version>_all.deb from this tree: what `make deb` runs once
# `make build` has compiled dist/. The version is package.json's; CHANGELOG.md must have a
# section for it. Needs: debhelper, help2man, sudo (visudo), nodejs, npm (and npm's cache or
# the registry for the production modules). Check the result with:
#   lintian --fail-on error,warning build/mss-sidecar_<version>_all.deb
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s%N)
stage=build/deb
mkdir -p "$stage"

# 1. debian/changelog from CHANGELOG.md, for package.json's version.
version=$(node -p 'require("./package.json").version')
debversion=$(node dist/scripts/debian-changelog.js)
SOURCE_DATE_EPOCH=$(dpkg-parsechangelog -STimestamp)
export SOURCE_DATE_EPOCH

# 2. The production node_modules: package-lock.json's dependencies without the dev ones and
#    without install scripts (none is needed: no native module), minus the modules' own
#    development files (scripts/prune-node-modules.ts). npm's cache serves the tarballs; the
#    result is reused while the lockfile's dependencies and the pruning are unchanged (a
#    version bump alone changes neither).
key=$(node -e '
  const l = require("./package-lock.json");
  const root = { ...l.packages[""] }; delete root.version;
  const prune = require("node:fs").readFileSync("dist/scripts/prune-node-modules.js", "utf8");
  process.stdout.write(require("node:crypto").createHash("sha256").update(JSON.stringify({ ...l.packages, "": root, prune })).digest("hex"));')
if [ "$(cat "$stage/node_modules.key" 2>/dev/null)" != "$key" ]; then
  rm -rf "$stage/npm" "$stage/node_modules" "$stage/node_modules.key"
  mkdir -p "$stage/npm"
  cp package.json package-lock.json "$stage/npm/"
  (cd "$stage/npm" && npm ci --omit=dev --ignore-scripts --prefer-offline --no-audit --no-fund --loglevel=error)
  node dist/scripts/prune-node-modules.js "$stage/npm/node_modules"
  mv "$stage/npm/node_modules" "$stage/node_modules"
  rm -rf "$stage/npm"
  echo "$key" >"$stage/node_modules.key"
fi
node dist/scripts/bundled-modules.js "$stage/node_modules" >"$stage/bundled-modules.txt"

# 3. The man page, from --help.
help2man --locale=C.UTF-8 --no-info --no-discard-stderr --section=1 --version-string="$version" \
  --name="MSSante operator sidecar for Postfix and Dovecot" \
  --include=debian/mss-sidecar.h2m --output="$stage/mss-sidecar.1" bin/mss-sidecar

# 4. A sudoers file that does not parse disables sudo for the whole machine: refuse it here.
visudo -c -q -f sudoers/mss-sidecar

# 5. The package (debian/rules: dh), into build/.
rm -f debian/files
DH_QUIET=1 debian/rules binary

deb="build/mss-sidecar_${debversion}_all.deb"
elapsed=$(( ($(date +%s%N) - started) / 1000000 ))
echo "built $deb ($(stat -c %s "$deb") bytes, $(dpkg-deb -c "$deb" | wc -l) entries, ${elapsed} ms)"
