#!/usr/bin/env bash
# Applies the Postfix pieces shipped in postfix/ to a Postfix configuration, idempotently:
#   main.cf.d/*.cf    each `name = value` with `postconf -e`; each `name += value` (a list
#                     parameter: non_smtpd_milters) puts value first in the list, keeping the
#                     site's own entries after it, unless it is there already;
#   master.cf.d/*.cf  each `disable service/type` with `postconf -M#` (the entry is commented
#                     out) when that service is active; each service entry with `postconf -M`,
#                     only if that service does not exist yet; then each
#                     `service/type/name = value` with `postconf -P` (an -o option).
# Pieces are applied in file-name order (00-…, 10-…, 20-…), service entries before options,
# so a piece may set options on a service another piece creates. Running it again changes
# nothing. Afterwards it checks the perimeter (docs/install.md, "The perimeter"): it lists any
# inet service that may still listen beyond loopback (with the shipped pieces only the
# sidecar listens publicly: 25, 143, 587), any smtpd service that accepts mail without the
# submission milter (mail entering there would skip the sending rules), and runs
# `mss-sidecar postfix check-routes`, which reports any MSSanté domain of the liste blanche
# that Postfix would not hand to the outbound gate. It never restarts Postfix: run `postfix
# check` and `systemctl restart postfix` afterwards (inet_interfaces changes need a restart,
# not a reload).
#
# usage: scripts/postfix-apply.sh [-c POSTFIX_CONFIG_DIR] [-n] [PIECES_DIR]
#   -c DIR   configuration to change (default: Postfix's own, usually /etc/postfix)
#   -n       dry run: print the postconf commands instead of running them; nothing changes
#   PIECES_DIR  default: the postfix/ directory next to this script
# environment: MSS_SIDECAR (default: mss-sidecar on the PATH) and MSS_SIDECAR_CONFIG (its
#   --config) for the routing check.
set -euo pipefail

config_dir=""
dry_run=0
while getopts "c:n" opt; do
  case "$opt" in
    c) config_dir="$OPTARG" ;;
    n) dry_run=1 ;;
    *) echo "usage: $0 [-c POSTFIX_CONFIG_DIR] [-n] [PIECES_DIR]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
pieces="${1:-$(cd "$(dirname "$0")/.." && pwd)/postfix}"

postconf_cmd=(postconf)
[ -n "$config_dir" ] && postconf_cmd+=(-c "$config_dir")

run() {
  if [ "$dry_run" -eq 1 ]; then
    printf '%q ' "$@"; echo
  else
    "$@"
  fi
}

# Postfix's own syntax: a logical line starts in column 1, lines starting with whitespace
# continue it, `#` lines and blank lines are ignored. One logical line out per input entry.
logical_lines() {
  awk '
    /^[ \t]*#/ || /^[ \t]*$/ { next }
    /^[ \t]/ { sub(/^[ \t]+/, ""); line = line " " $0; next }
    { if (line != "") print line; line = $0 }
    END { if (line != "") print line }
  ' "$1"
}

shopt -s nullglob
main_pieces=("$pieces"/main.cf.d/*.cf)
master_pieces=("$pieces"/master.cf.d/*.cf)
if [ ${#main_pieces[@]} -eq 0 ] && [ ${#master_pieces[@]} -eq 0 ]; then
  echo "error: no pieces under $pieces/main.cf.d or $pieces/master.cf.d" >&2
  exit 1
fi

# `name += value`: value first in the list, the site's entries kept after it.
prepend_to_list() {
  local name="$1" value="$2" current item
  current="$("${postconf_cmd[@]}" -h "$name" 2>/dev/null)"
  for item in $(tr ',' ' ' <<<"$current"); do
    if [ "$item" = "$value" ]; then
      echo "keeping $name: $value is already in it"
      return
    fi
  done
  run "${postconf_cmd[@]}" -e "$name = $value${current:+, $current}"
}

for f in "${main_pieces[@]}"; do
  while IFS= read -r line; do
    case "$line" in
      *=*) ;;
      *) echo "error: $f: not a 'name = value' line: $line" >&2; exit 1 ;;
    esac
    name="$(sed -E 's/^[[:space:]]*([^=+[:space:]]+)[[:space:]]*\+?=.*/\1/' <<<"$line")"
    value="$(sed -E 's/^[^=]*=[[:space:]]*//' <<<"$line")"
    if [[ "$line" =~ ^[^=]*\+= ]]; then
      prepend_to_list "$name" "$value"
    else
      run "${postconf_cmd[@]}" -e "$name = $value"
    fi
  done < <(logical_lines "$f")
done

# Service entries first (create when missing), then options.
options=()
for f in "${master_pieces[@]}"; do
  while IFS= read -r line; do
    first="${line%%[[:space:]]*}"
    if [[ "$first" == */*/* && "$line" == *=* ]]; then
      key="$(sed -E 's/^([^=[:space:]]+)[[:space:]]*=.*/\1/' <<<"$line")"
      value="$(sed -E 's/^[^=]*=[[:space:]]*//' <<<"$line")"
      options+=("$key=$value")
      continue
    fi
    read -r service type _ <<<"$line"
    if [ "$service" = "disable" ]; then
      if [[ "$type" != */* ]]; then
        echo "error: $f: expected 'disable SERVICE/TYPE': $line" >&2
        exit 1
      fi
      if [ -n "$("${postconf_cmd[@]}" -M "$type" 2>/dev/null)" ]; then
        run "${postconf_cmd[@]}" -M# "$type"
      fi
      continue
    fi
    if [ -z "${type:-}" ]; then
      echo "error: $f: neither a service entry nor service/type/name = value: $line" >&2
      exit 1
    fi
    if [ -n "$("${postconf_cmd[@]}" -M "$service/$type" 2>/dev/null)" ]; then
      echo "keeping the existing $service/$type service of master.cf"
    else
      run "${postconf_cmd[@]}" -M "$service/$type=$line"
    fi
  done < <(logical_lines "$f")
done
for opt in "${options[@]}"; do
  run "${postconf_cmd[@]}" -P "$opt"
done

if [ "$dry_run" -eq 1 ]; then
  echo "dry run: nothing was changed (${#main_pieces[@]} main.cf and ${#master_pieces[@]} master.cf piece(s) from $pieces); run without -n to apply"
  exit 0
fi

# The perimeter (docs/install.md): what may still listen beyond loopback, an inet service
# named by a non-loopback address, or by a port alone while inet_interfaces is not
# loopback-only (a site's own piece)...
interfaces="$("${postconf_cmd[@]}" -h inet_interfaces)"
public=()
unjudged=()
global_milters="$("${postconf_cmd[@]}" -h smtpd_milters)"
while read -r name type _ _ _ _ _ command _; do
  if [ "$type" = "inet" ]; then
    case "$name" in
      127.0.0.1:* | localhost:* | \[::1\]:* | ::1:*) ;;
      *:*) public+=("$name") ;;
      *) case "$interfaces" in loopback-only | 127.0.0.1 | localhost) ;; *) public+=("$name") ;; esac ;;
    esac
  fi
  # ...and every smtpd but the inbound gate's that would take mail without the submission
  # milter: mail submitted there skips the sending rules, the journal and the traces.
  [ "${command:-}" = "smtpd" ] || continue
  [ "$name/$type" = "mss-gate-in/unix" ] && continue
  milters="$("${postconf_cmd[@]}" -P "$name/$type/smtpd_milters" 2>/dev/null | sed -E 's/^[^=]*=[[:space:]]*//')"
  [ -n "$milters" ] || milters="$global_milters"
  case " $(tr ',' ' ' <<<"$milters") " in
    *' $mss_submission_milter '* | *' ${mss_submission_milter} '*) ;;
    *) unjudged+=("$name/$type") ;;
  esac
done < <("${postconf_cmd[@]}" -M)
if [ ${#public[@]} -gt 0 ]; then
  echo "warning: these Postfix inet services may listen beyond loopback (inet_interfaces = $interfaces): ${public[*]}; the sidecar's public ports (25, 143, 587) must stay free for it" >&2
fi
if [ ${#unjudged[@]} -gt 0 ]; then
  echo "warning: these Postfix smtpd services take mail without the submission milter, so it skips the sending rules, the journal and the traces: ${unjudged[*]}; give each -o smtpd_milters=\$mss_submission_milter or remove it (docs/install.md, \"The perimeter\")" >&2
fi

# The routes: no MSSanté domain of the liste blanche may leave other than through the gate.
sidecar="${MSS_SIDECAR:-$(command -v mss-sidecar || true)}"
if [ -z "$sidecar" ]; then
  echo "note: mss-sidecar is not on the PATH: run \`mss-sidecar postfix check-routes\` once it is installed and the liste blanche synchronised"
else
  check=("$sidecar")
  [ -n "${MSS_SIDECAR_CONFIG:-}" ] && check+=(--config "$MSS_SIDECAR_CONFIG")
  check+=(postfix check-routes)
  [ -n "$config_dir" ] && check+=(--postfix-config "$config_dir")
  if ! "${check[@]}"; then
    echo "warning: the routing check above found MSSanté mail that would not leave through the outbound gate, or could not run; fix the routes, then run \`mss-sidecar postfix check-routes\` again" >&2
  fi
fi
# (-n ended above with "dry run: nothing was changed", never "applied": issue #15.)
echo "applied ${#main_pieces[@]} main.cf and ${#master_pieces[@]} master.cf piece(s) from $pieces; now run: postfix check && systemctl restart postfix"
