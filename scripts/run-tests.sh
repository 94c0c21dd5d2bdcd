#!/usr/bin/env bash
# Runs compiled test files (make test, make integration): node --test in a pool of
# TEST_CONCURRENCY files, each bounded by TEST_TIMEOUT_MS — except the package test.
#
# The package test (test/integration/debian-package.test.ts) installs the real package, so the
# runs of every worktree on a machine take turns (a machine-wide lock, test/helpers/machine-lock.ts).
# Its file may first wait for another run of it, 5 to 10 minutes under load, and TEST_TIMEOUT_MS
# bounds a whole file, wait included: it then failed with "test timed out" although nothing was
# wrong, and while it waited it held one of the pool's slots. So it runs beside the pool, niced
# (its own work is CPU-heavy: npm ci, tsc, lintian), with its own deadline
# PACKAGE_TEST_TIMEOUT_MS: the lock wait (the test gives up at 50 minutes with a message naming
# the holder) plus its own run. Its output is printed after the pool's.
#
# usage: scripts/run-tests.sh FILE.test.js...   environment: NODE, TEST_CONCURRENCY, TEST_TIMEOUT_MS,
#   PACKAGE_TEST_TIMEOUT_MS (default 3600000)
set -uo pipefail

node="${NODE:-node}"
pool=()
package=()
for f in "$@"; do
  case "$f" in
    */integration/debian-package.test.js) package+=("$f") ;;
    *) pool+=("$f") ;;
  esac
done

pkg_pid=""
pkg_log=""
if [ ${#package[@]} -gt 0 ]; then
  pkg_log="$(mktemp)"
  nice -n 10 "$node" --enable-source-maps --test --test-timeout="${PACKAGE_TEST_TIMEOUT_MS:-3600000}" "${package[@]}" >"$pkg_log" 2>&1 &
  pkg_pid=$!
  # Interrupted (Ctrl-C, a CI timeout): stop it too; its after() hook or the next run purges
  # what it installed (its marker file).
  trap '[ -n "$pkg_pid" ] && kill "$pkg_pid" 2>/dev/null; rm -f "$pkg_log"' EXIT
fi

status=0
if [ ${#pool[@]} -gt 0 ]; then
  "$node" --enable-source-maps --test --test-concurrency="${TEST_CONCURRENCY:-4}" --test-timeout="${TEST_TIMEOUT_MS:-600000}" "${pool[@]}" || status=$?
fi
if [ -n "$pkg_pid" ]; then
  pkg_status=0
  wait "$pkg_pid" || pkg_status=$?
  pkg_pid=""
  echo "# ${package[*]} (run beside the others, with its own deadline: scripts/run-tests.sh)"
  cat "$pkg_log"
  [ "$status" -eq 0 ] && status=$pkg_status
fi
exit "$status"
