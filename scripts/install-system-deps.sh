#!/usr/bin/env bash
# Installs the Debian packages the integration tests run for real (Postfix, Dovecot with
# the Lua passdb and LMTP, Redis and Redis Sentinel, swaks, postfwd for the milter benchmark, openssl, Chromium
# for the portal's browser tests, libxml2's xmllint and xmlsec1 for the liste blanche), only
# when one is missing. No daemon is started: tests start their own instances on loopback.
set -euo pipefail

need=()
command -v postfix >/dev/null 2>&1 || need+=(postfix)
command -v dovecot >/dev/null 2>&1 || need+=(dovecot-core dovecot-imapd dovecot-lmtpd dovecot-submissiond)
[ -e /usr/lib/dovecot/modules/auth/libauthdb_lua.so ] || need+=(dovecot-auth-lua)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
# Redis Sentinel: the cluster tests run a set of 1 master, 1 replica and 3 sentinels (docs/cluster.md).
command -v redis-sentinel >/dev/null 2>&1 || need+=(redis-sentinel)
command -v swaks >/dev/null 2>&1 || need+=(swaks)
command -v postfwd >/dev/null 2>&1 || need+=(postfwd)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
# The portal's browser tests drive Debian's Chromium with playwright-core (no browser download).
[ -x /usr/bin/chromium ] || need+=(chromium)
# The benchmarks (make bench): GNU time measures ours and the anchors alike; zip is the
# statistics anchor's archiver (mawk is Debian's default awk).
[ -x /usr/bin/time ] || need+=(time)
command -v zip >/dev/null 2>&1 || need+=(zip)
# The liste blanche tests and bench compare with libxml2: xmllint --exc-c14n, xmlsec1 --verify.
command -v xmllint >/dev/null 2>&1 || need+=(libxml2-utils)
command -v xmlsec1 >/dev/null 2>&1 || need+=(xmlsec1)
# The Debian package (make deb, test/integration/debian-package.test.ts): its build tools,
# lintian, and its dependencies beyond Postfix and Dovecot (systemd-sysusers/-tmpfiles; sudo).
command -v dh >/dev/null 2>&1 || need+=(debhelper)
command -v help2man >/dev/null 2>&1 || need+=(help2man)
command -v lintian >/dev/null 2>&1 || need+=(lintian)
command -v visudo >/dev/null 2>&1 || need+=(sudo)
command -v systemd-sysusers >/dev/null 2>&1 || need+=(systemd)
# promtool and prometheus: the shipped alert rules are checked and evaluated (examples/prometheus).
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
# systemd-analyze (security --offline scores the shipped units; no systemd as PID 1 needed)
# and sudo's visudo (the shipped sudoers rules are checked with sudo itself).
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
command -v visudo >/dev/null 2>&1 || need+=(sudo)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi

echo "installing Debian packages: ${need[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "error: root is needed to install them; run: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Postfix would otherwise ask how to configure itself; the tests write their own main.cf.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "installed: ${need[*]}"
