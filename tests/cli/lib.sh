# lib.sh — helpers shared by the CLI test scripts (sourced, not run).
# Sets T (a temporary directory removed on exit) and counts failures in
# `fails`; each script ends with `finish`.
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
pass() { printf 'ok   %s\n' "$1"; }
fail() { printf 'FAIL %s\n' "$1"; fails=$((fails + 1)); }
# expect_status WANT DESCRIPTION -- command...   (stdout in $T/out, stderr in $T/err)
expect_status() {
  local want=$1 what=$2; shift 3
  "$@" >"$T/out" 2>"$T/err"; local got=$?
  if [ "$got" -eq "$want" ]; then pass "$what (exit $got)"; else fail "$what: exit $got, want $want"; sed 's/^/    /' "$T/err" | head -5; fi
}
# contains FILE TEXT DESCRIPTION
contains() { if grep -qF -- "$2" "$1"; then pass "$3"; else fail "$3: '$2' not in $1"; sed 's/^/    /' "$1" | head -5; fi; }
# skip WHAT: a check that needs something absent here (../shared, a
# PostgreSQL cluster).  Under CI (CI=true) it is always there, so its absence
# is a failure, never a silent pass.
skip() {
  if [ "${CI:-}" = true ]; then fail "$1 (required under CI=true)"; else printf 'skip %s\n' "$1"; fi
}
finish() {
  echo "$fails failure(s)"
  [ "$fails" -eq 0 ]
}
