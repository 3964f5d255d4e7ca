#!/usr/bin/env bash
# API tokens through the CLI: jiko token create / list / revoke, on SQLite
# and (when a cluster is given) PostgreSQL.  A token is printed once and
# never again: list shows neither the token nor its hash.
# usage: test_token.sh PATH/TO/jiko SOURCE_DIR [FILE_WITH_PG_URL]
set -u
JIKO=$1
PGURL=$( [ -n "${3:-}" ] && [ -f "$3" ] && cat "$3" || true)
. "$(dirname "$0")/lib.sh"
DB="$T/tokens.db"

sha() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }

# checks one registry (SQLite path or PostgreSQL URL); LABEL names it
run_on() {
  local db=$1 label=$2
  expect_status 0 "$label: create an admin token" -- "$JIKO" token create --role admin --operator "Example Telecom" --note "NOC feed" --db "$db"
  local tok1 id1 h1
  tok1=$(cat "$T/out")
  [ "$(wc -l <"$T/out")" -eq 1 ] && printf '%s' "$tok1" | grep -qE '^jiko_[A-Za-z0-9_-]{43}$' \
    && pass "$label: the token alone on standard output, jiko_ + 43 base64url characters" || fail "$label: token output: $(cat "$T/out")"
  h1=$(sha "$tok1")
  id1="t_${h1:0:12}"
  contains "$T/err" "created $id1 (role admin, operator Example Telecom)" "$label: standard error names the id (t_ + the first 12 hex digits of its SHA-256), role and operator"
  contains "$T/err" "shown only once" "$label: and says the token is shown only once"
  expect_status 0 "$label: create an ingest token" -- "$JIKO" token create --role ingest --operator "楽天モバイル株式会社" --db "$db"
  local tok2 h2
  tok2=$(cat "$T/out")
  h2=$(sha "$tok2")
  [ "$tok1" != "$tok2" ] && pass "$label: two tokens differ" || fail "$label: the same token twice"
  expect_status 0 "$label: create a regulator token" -- "$JIKO" token create --role regulator --note "MIC" --db "$db"
  local tok3 h3
  tok3=$(cat "$T/out")
  h3=$(sha "$tok3")
  contains "$T/err" "(role regulator, operator none)" "$label: a regulator's token has no operator"

  expect_status 0 "$label: list" -- "$JIKO" token list --db "$db"
  cp "$T/out" "$T/list.txt"
  [ "$(grep -c '^t_' "$T/list.txt")" -eq 3 ] && pass "$label: list shows the three tokens" || fail "$label: list: $(cat "$T/list.txt")"
  contains "$T/list.txt" "CREATED (JST)" "$label: list has a header"
  grep "^$id1 " "$T/list.txt" | grep -q "admin.*Example Telecom.*NOC feed" && pass "$label: list shows id, role, operator, note" || fail "$label: list row of $id1"
  grep "^$id1 " "$T/list.txt" | grep -qE ' 20[0-9]{2}-[0-9]{2}-[0-9]{2} [0-9:]{8} +- +NOC' && pass "$label: created in JST, not revoked" || fail "$label: list times: $(grep "^$id1 " "$T/list.txt")"
  expect_status 0 "$label: list --json" -- "$JIKO" token list --json --db "$db"
  cp "$T/out" "$T/list.json"
  python3 - "$T/list.json" "$id1" <<'PY' && pass "$label: list --json is JSON Lines with the expected fields" || fail "$label: list --json: $(head -3 "$T/list.json")"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert len(rows) == 3, rows
for r in rows:
    assert list(r) == ["id", "role", "operator", "note", "created_at", "revoked_at"], r
    assert r["created_at"].endswith("+09:00") and r["revoked_at"] is None
a = [r for r in rows if r["id"] == sys.argv[2]][0]
assert a["role"] == "admin" and a["operator"] == "Example Telecom" and a["note"] == "NOC feed"
reg = [r for r in rows if r["role"] == "regulator"][0]
assert reg["operator"] is None and reg["note"] == "MIC"
PY
  # never the token, never its hash (the id is only its first 12 hex digits)
  local leak=0
  for s in "$tok1" "$tok2" "$tok3" "$h1" "$h2" "$h3" "${h1:0:16}" "$(printf '%s' "$h1" | tr a-f A-F)"; do
    grep -qF -- "$s" "$T/list.txt" "$T/list.json" && leak=1
  done
  [ "$leak" -eq 0 ] && pass "$label: list shows no token and no hash" || fail "$label: list shows a secret"
  printf '%s\n' "$tok1" "$tok2" "$tok3" >"$T/tokens-$label"

  expect_status 0 "$label: revoke" -- "$JIKO" token revoke "$id1" --db "$db"
  contains "$T/err" "$id1 revoked" "$label: revoke says so"
  expect_status 0 "$label: revoke again" -- "$JIKO" token revoke "$id1" --db "$db"
  contains "$T/err" "was revoked already" "$label: revoking again says it was revoked already"
  expect_status 6 "$label: revoke an unknown id" -- "$JIKO" token revoke t_000000000000 --db "$db"
  contains "$T/err" "no API token 't_000000000000'" "$label: the unknown id is named"
  "$JIKO" token list --json --db "$db" >"$T/after.json" 2>/dev/null
  python3 - "$T/after.json" "$id1" <<'PY' && pass "$label: list shows when the revoked token was revoked, the others active" || fail "$label: revocation not listed"
import json, sys
rows = {r["id"]: r for r in map(json.loads, open(sys.argv[1], encoding="utf-8"))}
assert rows[sys.argv[2]]["revoked_at"].endswith("+09:00")
assert sum(r["revoked_at"] is None for r in rows.values()) == 2
PY
}

run_on "$DB" "SQLite"
[ -f "$DB" ] && pass "create made the registry" || fail "no registry made"
# the registry holds the SHA-256 of each token, and never the token
sqlite3 "$DB" "SELECT lower(hex(hash)) FROM api_token" | sort >"$T/stored-hashes"
while read -r tok; do sha "$tok"; done <"$T/tokens-SQLite" | sort >"$T/printed-hashes"
[ -s "$T/stored-hashes" ] && cmp -s "$T/stored-hashes" "$T/printed-hashes" \
  && pass "the registry holds the SHA-256 of each printed token" || fail "stored hashes differ: $(cat "$T/stored-hashes")"
if grep -qaF -f "$T/tokens-SQLite" "$DB" "$DB-wal" 2>/dev/null; then fail "a token's text is in the registry file"; else pass "no token text in the registry file"; fi

# --- usage -------------------------------------------------------------------
expect_status 2 "no subcommand" -- "$JIKO" token
expect_status 2 "unknown subcommand" -- "$JIKO" token delete t_x --db "$DB"
expect_status 2 "create without --role" -- "$JIKO" token create --operator A --db "$DB"
expect_status 2 "create with an unknown role" -- "$JIKO" token create --role root --operator A --db "$DB"
contains "$T/err" "--role expects admin, viewer, ingest or regulator, got 'root'" "the unknown role is named"
for r in admin viewer ingest; do
  expect_status 2 "create --role $r without --operator" -- "$JIKO" token create --role "$r" --db "$DB"
done
expect_status 2 "create --role admin --operator ''" -- "$JIKO" token create --role admin --operator "" --db "$DB"
expect_status 2 "create --role regulator with --operator" -- "$JIKO" token create --role regulator --operator A --db "$DB"
contains "$T/err" "belongs to no operator" "regulator with --operator explained"
[ ! -s "$T/out" ] && pass "a refused create prints no token" || fail "a refused create printed: $(cat "$T/out")"
expect_status 2 "revoke without an id" -- "$JIKO" token revoke --db "$DB"
expect_status 2 "revoke with two ids" -- "$JIKO" token revoke t_a t_b --db "$DB"
expect_status 2 "list with an argument" -- "$JIKO" token list extra --db "$DB"
expect_status 2 "list with --role" -- "$JIKO" token list --role admin --db "$DB"
expect_status 2 "create with --json" -- "$JIKO" token create --role regulator --json --db "$DB"
expect_status 2 "an unknown option" -- "$JIKO" token list --bogus --db "$DB"
expect_status 0 "jiko token --help" -- "$JIKO" token --help
contains "$T/out" "usage: jiko token create" "help on standard output"
expect_status 0 "jiko token create --help" -- "$JIKO" token create --help
expect_status 0 "jiko help token" -- "$JIKO" help token
expect_status 5 "list in no registry" -- "$JIKO" token list --db "$T/none.db"
[ ! -e "$T/none.db" ] && pass "list makes no registry" || fail "list made a registry"
expect_status 5 "revoke in no registry" -- "$JIKO" token revoke t_000000000000 --db "$T/none.db"

# --- PostgreSQL ----------------------------------------------------------------
if [ -n "$PGURL" ]; then
  psql "$PGURL" -qc "DELETE FROM api_token" >/dev/null 2>&1
  run_on "$PGURL" "PostgreSQL"
else
  skip "PostgreSQL token tests: no cluster URL"
fi

finish
