#!/usr/bin/env bash
# Registry tests through the CLI: import / amend / list / show / history /
# export on SQLite, the export→import round trip, durability under kill -9,
# and concurrent importers into one PostgreSQL registry.
# usage: test_registry.sh PATH/TO/jiko SOURCE_DIR [FILE_WITH_PG_URL]
set -u
JIKO=$1
SRC=$2
PGURL=$( [ -n "${3:-}" ] && [ -f "$3" ] && cat "$3" || true)
. "$(dirname "$0")/lib.sh"
EX="$SRC/examples/fy2021-serious.jsonl"
DB="$T/r.db"

# --- basic behaviour -------------------------------------------------------
expect_status 0 "import the FY2021 serious accidents" -- "$JIKO" import --db "$DB" "$EX"
contains "$T/err" "13 stored, 0 amended, 0 unchanged, 0 rejected" "import summary"
expect_status 0 "re-import is a no-op" -- "$JIKO" import --db "$DB" "$EX"
contains "$T/err" "0 stored, 0 amended, 13 unchanged, 0 rejected" "re-import summary"
JIKO_DB="$DB" expect_status 0 "list via JIKO_DB" -- env JIKO_DB="$DB" "$JIKO" list
[ "$(wc -l <"$T/out")" -eq 14 ] && pass "list shows 13 incidents and a header" || fail "list line count"
expect_status 0 "list --fy 2021 --quarter 3 --json" -- "$JIKO" list --db "$DB" --fy 2021 --quarter 3 --json
[ "$(wc -l <"$T/out")" -eq 4 ] && pass "4 reports in FY2021 Q3" || fail "Q3 count $(wc -l <"$T/out")"
expect_status 0 "list --operator --report" -- "$JIKO" list --db "$DB" --operator 楽天モバイル株式会社 --report serious --json
[ "$(wc -l <"$T/out")" -eq 3 ] && pass "3 serious reports by Rakuten Mobile" || fail "operator filter"
expect_status 2 "list --quarter 5 refused" -- "$JIKO" list --db "$DB" --quarter 5
expect_status 0 "show one incident" -- "$JIKO" show fy2021-07-globalsign --db "$DB" --json
contains "$T/out" '"report":"serious","rulebook":"jp-2019","serious_categories":["5"]' "show gives the classification"
expect_status 6 "show an unknown id" -- "$JIKO" show nope --db "$DB"
expect_status 5 "show with an ambiguous id" -- sh -c "sed 's/GMOペパボ株式会社/Other Co/' '$EX' | grep pepabo | '$JIKO' import --db '$DB' - && '$JIKO' show fy2021-02-pepabo --db '$DB'"
contains "$T/err" "several operators" "ambiguous id explained"

# --- amendments keep history ----------------------------------------------
grep '"fy2021-07-globalsign"' "$EX" | sed 's/"users": 41417/"users": 41500/g' >"$T/amend.jsonl"
expect_status 0 "amend with a reason" -- "$JIKO" amend fy2021-07-globalsign --db "$DB" --reason "user count corrected" "$T/amend.jsonl"
contains "$T/err" "0 stored, 1 amended" "amend summary"
expect_status 0 "history" -- "$JIKO" history fy2021-07-globalsign --db "$DB" --json
[ "$(wc -l <"$T/out")" -eq 2 ] && pass "two versions kept" || fail "history versions"
contains "$T/out" "amended: user count corrected" "the reason is kept"
contains "$T/out" '"users":41417' "the first version is intact"
expect_status 1 "amend with a record of another id" -- "$JIKO" amend fy2021-02-pepabo --db "$DB" --operator GMOペパボ株式会社 "$T/amend.jsonl"
contains "$T/err" "field 'id': is \"fy2021-07-globalsign\" but the incident to amend is \"fy2021-02-pepabo\"" "wrong id refused"
expect_status 6 "amend an unknown incident" -- "$JIKO" amend nope --db "$DB" "$T/amend.jsonl"

# --- bad records store nothing, the rest is stored --------------------------
{
  echo '{"id":"ok-1","operator":"X","started_at":"2021-08-03T15:00:00+09:00","ended_at":"2021-08-03T18:00:00+09:00","services":[{"service":"ftth","effect":"stop","users":5}]}'
  echo '{"id":"bad-1","operator":"X","started_at":"2021-08-03T15:00:00+09:00","services":[{"service":"ftth","effect":"stop","users":-5}]}'
  echo '{"id":"bad-2",'
  echo '{"id":"ok-2","operator":"X","started_at":"2021-08-03T15:00:00+09:00","ended_at":null,"services":[{"service":"ftth","effect":"stop","users":50000}]}'
} >"$T/mixed.jsonl"
expect_status 1 "import a file with bad records" -- "$JIKO" import --db "$DB" "$T/mixed.jsonl"
contains "$T/err" "$T/mixed.jsonl:2: field 'services[0].users': must not be negative" "error names file, line, field"
contains "$T/err" "2 stored, 0 amended, 0 unchanged, 2 rejected" "mixed summary"
expect_status 6 "a rejected record stored nothing" -- "$JIKO" show bad-1 --db "$DB"
expect_status 0 "open incidents" -- "$JIKO" list --db "$DB" --open --json
contains "$T/out" '"id":"ok-2"' "the ongoing incident is listed as open"

# Records are parsed by two threads in chunks: over many chunks, rejections
# are still reported in line order and every valid record is stored once.
python3 - "$T/many.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(1, 5001):
        if i % 397 == 0:
            f.write('{"id":"m%d",\n' % i)
            continue
        f.write(json.dumps({"id": "m%d" % i, "operator": "Y",
                            "started_at": "2021-08-03T15:00:00+09:00", "ended_at": "2021-08-03T16:00:00+09:00",
                            "services": [{"service": "ftth", "effect": "stop", "users": i}]}) + "\n")
PY
expect_status 1 "import 5000 records with 12 bad ones" -- "$JIKO" import --db "$T/many.db" --batch 300 --log-commits "$T/many.jsonl"
grep -o 'many.jsonl:[0-9]*: invalid JSON' "$T/err" | cut -d: -f2 | tr '\n' ' ' >"$T/badlines"
[ "$(cat "$T/badlines")" = "$(seq 397 397 5000 | tr '\n' ' ')" ] && pass "rejections reported in line order" || fail "rejection order: $(cat "$T/badlines")"
contains "$T/err" "4988 stored, 0 amended, 0 unchanged, 12 rejected" "many-chunk summary"
grep -o 'lines [0-9]*-[0-9]*' "$T/err" | tr -c '0-9\n' ' ' | awk 'NR > 1 && $1 <= prev { bad = 1 } { prev = $2 } END { exit bad || prev != 5000 }' \
  && pass "committed batches follow each other in line order" || fail "batch order"
[ "$(sqlite3 "$T/many.db" "SELECT count(*), count(DISTINCT id), sum(users) FROM incident")" = "4988|4988|$(( 5000 * 5001 / 2 - 397 * 78 ))" ] \
  && pass "every valid record stored once, with its own values" || fail "many-chunk contents"

# --- export → import round trip ---------------------------------------------
"$JIKO" export --db "$DB" >"$T/export1.jsonl" 2>/dev/null
"$JIKO" import --db "$T/copy.db" "$T/export1.jsonl" 2>/dev/null
"$JIKO" export --db "$T/copy.db" >"$T/export2.jsonl" 2>/dev/null
if [ -s "$T/export1.jsonl" ] && cmp -s "$T/export1.jsonl" "$T/export2.jsonl"; then
  pass "export → import → export reproduces identical records ($(wc -l <"$T/export1.jsonl") records)"
else
  fail "round trip differs"
fi
grep -qF '"users": 41500' "$T/export1.jsonl" && pass "export carries the current version" || fail "export version"

# --- durability: kill -9 at random moments --------------------------------
# Each round imports a new file of 3000 records in batches of 200 and is
# killed at a random moment; the importer reports each committed batch.
python3 - "$T" <<'PY'
import json, sys, random
random.seed(7)
svcs = ["ftth", "mobile_data", "email_paid", "ip_phone_050", "mobile_voice", "dsl"]
for r in range(120):
    with open(f"{sys.argv[1]}/kill-{r}.jsonl", "w") as f:
        for i in range(3000):
            h = random.randrange(0, 20)
            f.write(json.dumps({"id": f"d{r}-{i}", "operator": f"Op{i % 7}",
                "started_at": f"2021-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:00:00+09:00",
                "ended_at": f"2021-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{h:02d}:00+09:00",
                "services": [{"service": svcs[i % 6], "effect": "stop", "users": random.randrange(0, 100000)}]},
                ensure_ascii=False) + "\n")
PY
KDB="$T/kill.db"
: >"$T/commits.log"
# Round 0 runs to the end and times a whole import, so that the kills of the
# next rounds land inside an import however fast this machine or build is.
t0=$(date +%s%N)
"$JIKO" import --db "$KDB" --batch 200 --log-commits "$T/kill-0.jsonl" 2>>"$T/commits.log" >/dev/null
full_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
kills=0 rounds=1
while [ "$kills" -lt 50 ] && [ "$rounds" -lt 120 ]; do
  "$JIKO" import --db "$KDB" --batch 200 --log-commits "$T/kill-$rounds.jsonl" 2>>"$T/commits.log" >/dev/null &
  pid=$!
  delay_ms=$(( RANDOM % (full_ms * 9 / 10 + 1) ))
  sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
  if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
  wait "$pid" 2>/dev/null
  rounds=$((rounds + 1))
done
"$JIKO" export --db "$KDB" >"$T/kill-export.jsonl" 2>/dev/null
python3 - "$T" "$T/commits.log" "$T/kill-export.jsonl" <<'PY' && pass "every record of every reported batch is present and intact" || fail "durability: committed records missing or damaged"
import json, re, sys
stored = {}
for l in open(sys.argv[3], encoding="utf-8"):
    stored[json.loads(l)["id"]] = l.rstrip("\n")
files = {}
bad = checked = 0
for m in re.finditer(r"committed batch \d+: (\S+) lines (\d+)-(\d+)", open(sys.argv[2]).read()):
    path = m.group(1)
    if path not in files:
        files[path] = open(path, encoding="utf-8").read().split("\n")
    for n in range(int(m.group(2)), int(m.group(3)) + 1):
        line = files[path][n - 1]
        checked += 1
        if stored.get(json.loads(line)["id"]) != line:
            bad += 1
print(f"    {checked} records of committed batches checked, {len(stored)} stored, {bad} bad")
sys.exit(1 if bad or not checked else 0)
PY
[ "$kills" -ge 50 ] && pass "importer killed mid-import $kills times ($rounds rounds)" || fail "only $kills kills landed in $rounds rounds"
python3 -c "import sqlite3,sys; r=sqlite3.connect(sys.argv[1]).execute('PRAGMA integrity_check').fetchone()[0]; sys.exit(r!='ok')" "$KDB" \
  && pass "SQLite integrity check after the kills" || fail "integrity check"
expect_status 0 "a re-run completes the import" -- sh -c "for r in \$(seq 0 $((rounds - 1))); do '$JIKO' import --db '$KDB' '$T'/kill-\$r.jsonl || exit 1; done"
"$JIKO" export --db "$KDB" >"$T/kill-export.jsonl" 2>/dev/null
for r in $(seq 0 $((rounds - 1))); do cat "$T/kill-$r.jsonl"; done | sort >"$T/kill-all"
cmp -s <(sort "$T/kill-export.jsonl") "$T/kill-all" && pass "all $((rounds * 3000)) records stored exactly once, intact" || fail "after re-run the registry differs from the input"

# --- PostgreSQL: the same commands, and concurrent importers ----------------
if [ -n "$PGURL" ]; then
  PGDB="$PGURL"
  psql "$PGDB" -qc "DROP VIEW IF EXISTS incident_current; DROP TABLE IF EXISTS incident_version, incident, api_token, webhook_outbox, jiko_schema" >/dev/null 2>&1
  expect_status 0 "PostgreSQL: import" -- "$JIKO" import --db "$PGDB" "$EX"
  contains "$T/err" "13 stored" "PostgreSQL import summary"
  expect_status 0 "PostgreSQL: amend" -- "$JIKO" amend fy2021-07-globalsign --db "$PGDB" --reason fix "$T/amend.jsonl"
  expect_status 0 "PostgreSQL: history" -- "$JIKO" history fy2021-07-globalsign --db "$PGDB" --json
  [ "$(wc -l <"$T/out")" -eq 2 ] && pass "PostgreSQL keeps both versions" || fail "PostgreSQL history"
  "$JIKO" export --db "$PGDB" >"$T/pg-export.jsonl" 2>/dev/null
  grep -v '"operator":"X"\|Other Co' "$T/export1.jsonl" | sort >"$T/sq-sorted"
  sort "$T/pg-export.jsonl" >"$T/pg-sorted"
  cmp -s "$T/sq-sorted" "$T/pg-sorted" && pass "PostgreSQL and SQLite hold identical records" || fail "PostgreSQL export differs from SQLite"

  # concurrent importers: overlapping files, identical and changed records
  python3 - "$T" <<'PY'
import json, random, sys
t = sys.argv[1]
def rec(i, users):
    return json.dumps({"id": f"c{i}", "operator": "Conc", "started_at": "2021-06-01T10:00:00+09:00",
        "ended_at": "2021-06-01T13:00:00+09:00", "services": [{"service": "ftth", "effect": "stop", "users": users}]})
random.seed(3)
a = [rec(i, i) for i in range(0, 3000)]
b = [rec(i, i) for i in range(1500, 4500)]
c = [rec(i, i) for i in range(0, 4500)]; random.shuffle(c)
d = [rec(i, i + 1) for i in range(0, 1000)]
for name, rows in zip("abcd", (a, b, c, d)):
    open(f"{t}/conc-{name}.jsonl", "w").write("\n".join(rows) + "\n")
PY
  psql "$PGDB" -qc "DELETE FROM incident_version WHERE key IN (SELECT key FROM incident WHERE operator='Conc'); DELETE FROM incident WHERE operator='Conc'" >/dev/null 2>&1
  pids=""
  for n in a b c d; do
    "$JIKO" import --db "$PGDB" --batch 100 "$T/conc-$n.jsonl" 2>"$T/conc-$n.err" >/dev/null &
    pids="$pids $!"
  done
  st=0; for p in $pids; do wait "$p" || st=1; done
  [ "$st" -eq 0 ] && pass "4 concurrent importers finished" || { fail "a concurrent importer failed"; cat "$T"/conc-*.err; }
  stored=$(cat "$T"/conc-*.err | sed -n 's/.*: \([0-9]*\) stored.*/\1/p' | paste -sd+ | bc)
  [ "$stored" = "4500" ] && pass "each of 4500 new incidents stored exactly once across importers" || fail "stored total $stored, want 4500"
  gaps=$(psql "$PGDB" -Atc "SELECT count(*) FROM incident i WHERE operator='Conc' AND ((SELECT count(*) FROM incident_version v WHERE v.key=i.key) <> i.version OR (SELECT max(version) FROM incident_version v WHERE v.key=i.key) <> i.version)")
  count=$(psql "$PGDB" -Atc "SELECT count(*) FROM incident WHERE operator='Conc'")
  same=$(psql "$PGDB" -Atc "SELECT count(*) FROM incident WHERE operator='Conc' AND version = 1 AND substr(id,2)::int >= 1000")
  [ "$count" = "4500" ] && pass "4500 incidents, none lost or duplicated" || fail "count $count"
  [ "$gaps" = "0" ] && pass "every incident's versions are 1..current without gaps" || fail "$gaps incidents with version gaps"
  [ "$same" = "3500" ] && pass "records imported identically by several importers stayed at version 1" || fail "unchanged records got versions: $same of 3500 at v1"
else
  skip "PostgreSQL registry tests: no cluster URL"
fi

finish
