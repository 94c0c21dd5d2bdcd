# The anchor of bench/stats.ts: a month's Echanges CSV (v1.6, 8 columns) from the embedded
# journal's day files, as an administrator could write it with mawk, then `zip`. Three
# passes, like the build: (1) (message, recipient) pairs with a deferred attempt, (2) pairs
# that later got a final outcome leave that set, (3) one line per recipient of each
# `submitted` event of the month, unless its pair was only ever deferred.
# It does less than the build (fairness notes in bench/stats.ts): no registry (no EX_PSU_5820
# exclusions of senders or test recipients, no Connexions file), no duplicate recipients, no
# escaping of ';' or control characters, no patient address rewriting; the bench's data needs
# none of them, and the bench checks the CSV is byte-identical to the build's.
# Usage: TZ=<operator zone> mawk -v S=<month start ms> -v E=<month end ms> -v W=<deliveries up to ms>
#          -f echanges-anchor.awk phase=1 FILES... phase=2 FILES... phase=3 FILES... > out.csv
function field(name,    m) {
  if (!match($2, "\"" name "\":\"[^\"]*\"")) return ""
  return substr($2, RSTART + length(name) + 4, RLENGTH - length(name) - 5)
}
function number(name) {
  if (!match($2, "\"" name "\":[0-9]+")) return ""
  return substr($2, RSTART + length(name) + 3, RLENGTH - length(name) - 3)
}
BEGIN {
  FS = "\t"
  print "MAIL_ID;EXPEDITEUR;DESTINATAIRE;DATE;TAILLE;INS;CODECDA;NIL"
}
phase == 1 {
  if (index($2, "\"deferred\"") && index($2, "\"type\":\"delivery\"") && $1 >= S && $1 < W && field("outcome") == "deferred") {
    id = field("mailId"); pending[id SUBSEP tolower(field("recipient"))] = 1; ids[id] = 1; npending++
  }
  next
}
phase == 2 {
  if (npending && index($2, "\"type\":\"delivery\"") && $1 >= S && $1 < W) {
    id = field("mailId")
    if ((id in ids) && field("outcome") != "deferred") delete pending[id SUBSEP tolower(field("recipient"))]
  }
  next
}
phase == 3 {
  if (!index($2, "\"type\":\"submitted\"") || $1 < S || $1 >= E) next
  sender = tolower(field("sender"))
  if (sender == "") next
  id = field("mailId")
  tail = strftime("%Y-%m-%d %H:%M:%S", int($1 / 1000)) ";" number("size") ";" toupper(field("ins")) ";" field("codeCda") ";" field("nil")
  match($2, /"recipients":\[[^]]*\]/)
  n = split(substr($2, RSTART + 14, RLENGTH - 15), to, ",")
  for (i = 1; i <= n; i++) {
    r = tolower(substr(to[i], 2, length(to[i]) - 2))
    if ((id SUBSEP r) in pending) continue
    print id ";" sender ";" r ";" tail
  }
}
