#!/usr/bin/env bash
# jiko webhook emit / deliver / list through the CLI: options and exit
# statuses, config errors as the user sees them (file:line: field), the
# outbox on SQLite and (when a cluster is given) PostgreSQL, and messages in
# English and Japanese.  Delivery to a real receiver: tests/serve/test_webhook.py.
# usage: test_webhook.sh PATH/TO/jiko SOURCE_DIR [FILE_WITH_PG_URL]
set -u
JIKO=$1
PGURL=$( [ -n "${3:-}" ] && [ -f "$3" ] && cat "$3" || true)
. "$(dirname "$0")/lib.sh"
export LANG=C
SECRET=whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
# port 1 on loopback: nothing listens, connections are refused at once
cat >"$T/jiko.conf" <<CONF
[serve]
threads = 2
[webhook noc]
operator = Example Telecom
url = http://127.0.0.1:1/noc
secret = $SECRET
events = incident.opened, incident.closed
[webhook mic]
regulator = true
url = http://127.0.0.1:1/mic
secret = $SECRET
CONF

expect_status 0 "jiko webhook --help" -- "$JIKO" webhook --help
contains "$T/out" "Exit status" "help gives the exit statuses"
expect_status 0 "jiko help webhook" -- "$JIKO" help webhook
expect_status 2 "no subcommand" -- "$JIKO" webhook
expect_status 2 "unknown subcommand" -- "$JIKO" webhook send
contains "$T/err" "unknown subcommand 'send'" "it is named"
expect_status 2 "emit without --config" -- "$JIKO" webhook emit --type incident.opened --operator A --incident x
contains "$T/err" "emit needs --config FILE" "says which option is missing"
expect_status 2 "emit without --incident" -- "$JIKO" webhook emit --config "$T/jiko.conf" --type incident.opened --operator A
expect_status 2 "emit of an unknown type" -- "$JIKO" webhook emit --config "$T/jiko.conf" --db "$T/a.db" --type incident.reopened --operator A --incident x
contains "$T/err" "--type expects incident.opened" "lists the types"
expect_status 2 "list with --config" -- "$JIKO" webhook list --config "$T/jiko.conf"
expect_status 2 "--until-empty for list" -- "$JIKO" webhook list --until-empty 3
expect_status 2 "--json for deliver" -- "$JIKO" webhook deliver --config "$T/jiko.conf" --json
expect_status 2 "--until-empty of a negative time" -- "$JIKO" webhook deliver --config "$T/jiko.conf" --until-empty -1
expect_status 2 "an extra argument" -- "$JIKO" webhook list extra
expect_status 5 "list in no registry" -- "$JIKO" webhook list --db "$T/none.db"
[ ! -e "$T/none.db" ] && pass "list makes no registry" || fail "list made a registry"
expect_status 3 "a config file that is not there" -- "$JIKO" webhook deliver --config "$T/nope.conf" --db "$T/a.db"
printf '[webhook noc]\noperator = A\nurl = http://h/\nsecret = whsec_c2hvcnQ=\n' >"$T/bad.conf"
expect_status 3 "a short secret" -- "$JIKO" webhook emit --config "$T/bad.conf" --db "$T/a.db" --type incident.opened --operator A --incident x
contains "$T/err" "bad.conf:4: field 'secret': expected whsec_ followed by standard base64 of 24 to 64 random bytes" "the error names file, line and field"
grep -q c2hvcnQ "$T/err" && fail "the secret is echoed" || pass "the secret is not echoed"
printf '[serve]\nthreads = 1\n' >"$T/none.conf"
expect_status 3 "deliver with no [webhook] section" -- "$JIKO" webhook deliver --config "$T/none.conf" --db "$T/a.db"
contains "$T/err" "no [webhook NAME] section" "says so"

run_on() {
  local db=$1 label=$2
  expect_status 0 "$label: emit incident.opened" -- "$JIKO" webhook emit --config "$T/jiko.conf" --db "$db" --type incident.opened --operator "Example Telecom" --incident 2021-001 --data '{"users": 1200}'
  contains "$T/out" "queued 2 messages" "$label: the operator's and the regulator's subscriptions"
  expect_status 0 "$label: emit deadline.soon of another operator" -- "$JIKO" webhook emit --config "$T/jiko.conf" --db "$db" --type deadline.soon --operator "楽天モバイル株式会社" --incident r-1
  contains "$T/out" "queued 1 message" "$label: the regulator's only"
  LANG=ja_JP.UTF-8 expect_status 0 "$label: emit in Japanese" -- "$JIKO" webhook emit --config "$T/jiko.conf" --db "$db" --type incident.updated --operator "Example Telecom" --incident 2021-001
  contains "$T/out" "1 件を送信待ちにしました" "$label: 送信待ちの件数"
  expect_status 1 "$label: emit with data that is not an object" -- "$JIKO" webhook emit --config "$T/jiko.conf" --db "$db" --type incident.opened --operator A --incident x --data '[1]'
  contains "$T/err" "field 'data': must be a JSON object" "$label: the bad data is named"
  expect_status 0 "$label: list" -- "$JIKO" webhook list --db "$db"
  [ "$(grep -c '^msg_' "$T/out")" -eq 4 ] && pass "$label: four messages listed" || fail "$label: list: $(cat "$T/out")"
  grep '^msg_' "$T/out" | grep -q 'pending .*deadline.soon .*r-1 .*楽天モバイル株式会社' && pass "$label: a row: id, state, event, incident, operator" || fail "$label: list rows: $(cat "$T/out")"
  expect_status 11 "$label: deliver, receiver refusing: messages still pending" -- "$JIKO" webhook deliver --config "$T/jiko.conf" --db "$db" --timeout 2
  contains "$T/err" "0 delivered, 4 failed attempts, 0 given up, 4 pending" "$label: the summary"
  contains "$T/err" "attempt 1 failed" "$label: each attempt reported"
  LANG=ja_JP.UTF-8 expect_status 11 "$label: deliver in Japanese" -- "$JIKO" webhook deliver --config "$T/jiko.conf" --db "$db"
  contains "$T/err" "未配信 4" "$label: 未配信の件数"
  expect_status 0 "$label: list --json" -- "$JIKO" webhook list --db "$db" --json --limit 3
  python3 - "$T/out" <<'PY' && pass "$label: list --json --limit 3: the newest three, with attempts and the last error" || fail "$label: list --json: $(head -3 "$T/out")"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert len(rows) == 3, rows
for r in rows:
    # one attempt each by the first deliver; the second (in Japanese) tries
    # again those whose backoff (full jitter: anywhere from 0 up) has run out
    assert r["state"] == "pending" and r["attempts"] in (1, 2) and "onnect" in r["last_error"], r
    assert r["next_attempt_ms"] > r["last_attempt_ms"] >= r["created_ms"], r
    assert json.loads(r["body"])["type"] == r["event"], r
assert rows[-1]["event"] == "incident.updated", rows
PY
}

run_on "$T/hooks.db" "SQLite"
if [ -n "$PGURL" ]; then
  psql "$PGURL" -qc "DELETE FROM webhook_outbox" >/dev/null 2>&1
  run_on "$PGURL" "PostgreSQL"
else
  skip "PostgreSQL webhook tests: no cluster URL"
fi

finish
