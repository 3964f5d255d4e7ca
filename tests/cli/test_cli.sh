#!/usr/bin/env bash
# CLI tests for `jiko classify` and `jiko rules`: exit codes, the contract's
# JSON output against a reviewed golden file, errors naming file and line,
# rulebook directories, languages.
# usage: test_cli.sh PATH/TO/jiko SOURCE_DIR
set -u
JIKO=$1
SRC=$2
. "$(dirname "$0")/lib.sh"

NOW=2026-11-30T12:00:00+09:00

expect_status 0 "jiko --help" -- "$JIKO" --help
contains "$T/out" "classify" "top-level help lists classify"
expect_status 0 "jiko classify --help" -- "$JIKO" classify --help
contains "$T/out" "--rulebook ID" "classify help shows --rulebook"
expect_status 0 "jiko rules --help" -- "$JIKO" rules --help
expect_status 0 "jiko help classify" -- "$JIKO" help classify
expect_status 0 "jiko --version" -- "$JIKO" --version
expect_status 2 "no command" -- "$JIKO"
expect_status 2 "unknown command" -- "$JIKO" frobnicate
expect_status 2 "unknown option" -- "$JIKO" classify --frob
expect_status 2 "bad --lang" -- "$JIKO" classify --lang fr /dev/null
expect_status 2 "bad --now" -- "$JIKO" classify --now yesterday /dev/null
contains "$T/err" "RFC 3339" "bad --now explains the expected form"
expect_status 2 "unknown --rulebook" -- "$JIKO" classify --rulebook jp-1999 /dev/null
expect_status 4 "missing input file" -- "$JIKO" classify "$T/nope.jsonl"

# The seven FY2021 serious accidents: exact contract output, reviewed by hand.
expect_status 0 "classify the FY2021 serious accidents" -- \
  "$JIKO" classify --json --lang en --now "$NOW" "$SRC/examples/fy2021-serious.jsonl"
if diff -u "$SRC/tests/cli/fy2021-serious.golden.jsonl" "$T/out" >"$T/diff"; then
  pass "JSON output equals the reviewed golden file"
else
  fail "JSON output differs from tests/cli/fy2021-serious.golden.jsonl"; head -20 "$T/diff"
fi
python3 - "$T/out" <<'PY' && pass "output keys in contract order" || fail "output keys"
import json, sys
keys = ["id", "rulebook", "report", "serious_categories", "quarterly_clauses", "due", "becomes_serious_at", "reasons"]
for line in open(sys.argv[1], encoding="utf-8"):
    o = json.loads(line)
    assert list(o) == keys, list(o)
PY
# stdin, '-' and a table
expect_status 0 "classify from stdin" -- sh -c "\"$JIKO\" classify --json --now $NOW < \"$SRC/examples/fy2021-serious.jsonl\""
[ "$(wc -l <"$T/out")" -eq 13 ] && pass "13 records from stdin" || fail "stdin record count"
expect_status 0 "table in Japanese" -- "$JIKO" classify --lang ja --explain --now "$NOW" - <"$SRC/examples/fy2021-serious.jsonl"
contains "$T/out" "重大な事故" "Japanese table names the report"
contains "$T/out" "適用基準" "Japanese table header"
contains "$T/out" "詳細報告書" "Japanese reasons under --explain"

# A byte order mark, CRLF line ends and blank lines are tolerated.
{ printf '\xef\xbb\xbf'; head -2 "$SRC/examples/fy2021-serious.jsonl" | sed 's/$/\r/'; printf '\r\n  \n'; sed -n 3p "$SRC/examples/fy2021-serious.jsonl"; } >"$T/bom.jsonl"
expect_status 0 "BOM, CRLF and blank lines" -- "$JIKO" classify --json --now "$NOW" "$T/bom.jsonl"
[ "$(wc -l <"$T/out")" -eq 3 ] && pass "all 3 records classified" || fail "BOM/CRLF: $(wc -l <"$T/out") records"

# Bad records are reported with file, line and field; the rest is processed.
{
  head -2 "$SRC/examples/fy2021-serious.jsonl"
  echo '{"id":"bad-1","operator":"X","started_at":"2021-08-03T15:00:00+09:00","services":[{"service":"fibre","effect":"stop","users":1}]}'
  echo
  echo '{"id":"bad-2","operator":"X","started_at":"2007-08-03T15:00:00+09:00","services":[{"service":"ftth","effect":"stop","users":1}]}'
  echo '{"id":"bad-3", truncated'
  sed -n 3p "$SRC/examples/fy2021-serious.jsonl"
} >"$T/mixed.jsonl"
expect_status 1 "mixed file: some records rejected" -- "$JIKO" classify --json --now "$NOW" "$T/mixed.jsonl"
[ "$(wc -l <"$T/out")" -eq 3 ] && pass "the 3 valid records are still classified" || fail "valid records in mixed file: $(wc -l <"$T/out")"
contains "$T/err" "$T/mixed.jsonl:3: field 'services[0].service': unknown service code \"fibre\"" "error names file, line and field"
contains "$T/err" "$T/mixed.jsonl:5: field 'started_at': no rulebook is in force on that date" "pre-FY2008 incident rejected"
contains "$T/err" "$T/mixed.jsonl:6: invalid JSON" "truncated JSON rejected with its line"
contains "$T/err" "3 classified, 3 rejected" "summary of rejected records"

# A new amendment is a new file: --rules-dir with an extra rulebook.
mkdir -p "$T/rules"
cp "$SRC"/rules/*.rules "$SRC/tests/cases/jp-2030-example.rules" "$T/rules/"
echo '{"id":"future","operator":"X","started_at":"2030-05-01T10:00:00+09:00","ended_at":"2030-05-01T11:30:00+09:00","services":[{"service":"ftth","effect":"stop","users":30000}]}' >"$T/future.jsonl"
expect_status 0 "classify under an added rulebook" -- "$JIKO" classify --json --rules-dir "$T/rules" "$T/future.jsonl"
contains "$T/out" '"rulebook":"jp-2030-example","report":"serious","serious_categories":["5"]' "added rulebook applies from its date"
# jp-2019 moves its quarterly deadline past administrative holidays: 2030 is
# in the calendar's law-derived years (catalogs/holidays.conf), so Saturday
# 31 August 2030 moves to Monday 2 September
expect_status 0 "same incident under jp-2019, a law-derived calendar year" -- "$JIKO" classify --json --rulebook jp-2019 "$T/future.jsonl"
contains "$T/out" '"due":{"quarterly":"2030-09-02"}' "the 2030 quarterly deadline moved past the weekend"
# and the calendar stops at its last year: a clear error, no guess
sed 's/2030-05-01/2051-05-01/g' "$T/future.jsonl" >"$T/beyond.jsonl"
expect_status 1 "an incident of 2051 needs a holiday calendar for 2051" -- "$JIKO" classify --json --rulebook jp-2019 "$T/beyond.jsonl"
contains "$T/err" "beyond.jsonl:1: field 'started_at': no holiday calendar for 2051: the quarterly-report deadline 2051-08-31 cannot be moved past administrative holidays" "a deadline beyond the holiday calendar is an error naming the year"
sed 's/2030-05-01/2026-05-01/g' "$T/future.jsonl" >"$T/past.jsonl"
expect_status 0 "the same incident in 2026 under jp-2019 is not serious" -- "$JIKO" classify --json --rulebook jp-2019 "$T/past.jsonl"
contains "$T/out" '"report":"detailed"' "forced jp-2019 gives detailed"
expect_status 0 "rules list includes the added rulebook" -- "$JIKO" rules list --rules-dir "$T/rules"
contains "$T/out" "jp-2030-example" "listed"
# A broken rulebook stops everything with its file and line.
printf '[rulebook]\nid = jp-2040\nbogus = 1\n' >"$T/rules/jp-2040.rules"
expect_status 3 "broken rulebook" -- "$JIKO" classify --rules-dir "$T/rules" "$T/future.jsonl"
contains "$T/err" "jp-2040.rules:3: field 'bogus': unknown key in [rulebook]" "rulebook error names file and line"
JIKO_RULES_DIR="$T/nowhere" expect_status 3 "missing rulebook directory via JIKO_RULES_DIR" -- env JIKO_RULES_DIR="$T/nowhere" "$JIKO" rules list

# rules list / show
expect_status 0 "rules list" -- "$JIKO" rules list
contains "$T/out" "jp-2008" "jp-2008 listed"
contains "$T/out" "2015-04-01 2019-03-31" "jp-2015 period"
expect_status 0 "rules show jp-2019" -- "$JIKO" rules show jp-2019 --lang en
contains "$T/out" "duration >= 12h and users >= 30000" "LPWA line shown"
contains "$T/out" "lpwa_cellular lpwa_unlicensed" "category 3 services listed"
contains "$T/out" "令和3年度事故発生状況 注1①一" "sources shown"
expect_status 0 "rules show jp-2008 in Japanese" -- "$JIKO" rules show jp-2008 --lang ja
contains "$T/out" "未確認" "unconfirmed clauses flagged"
expect_status 0 "rules show --json" -- "$JIKO" rules show jp-2015 --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["id"]=="jp-2015"; s=[c for c in d["clauses"] if c["kind"]=="serious"]; assert [c["id"] for c in s]==["1","2","3","4"]; assert "音声伝送役務を除く" in s[2]["name_ja"] and "email_free" in s[2]["services"]; assert d["deadlines"]["written"]["holidays"]=="move"; assert d["serious_quarterly_duty"]["value"] is False' "$T/out" \
  && pass "rules show --json parses; jp-2015 numbers its categories as FY2015-FY2018 did (3 = free internet services)" || fail "rules show --json"
expect_status 2 "rules show unknown id" -- "$JIKO" rules show jp-1999
expect_status 2 "rules with no subcommand" -- "$JIKO" rules

finish
