#!/usr/bin/env bash
# Regression tests for the defects found by driving jiko as a careless or
# hostile user would (issue 13).  Each check is named after what it guards.
# Runs on the plain build: some checks limit the process's memory, which a
# sanitizer build cannot run under.
# usage: test_hardening.sh PATH/TO/jiko SOURCE_DIR
set -u
JIKO=$(realpath "$1")
SRC=$2
. "$(dirname "$0")/lib.sh"
EX=$SRC/examples/fy2021-serious.jsonl
NOW=--now=2021-08-03T16:15:00+09:00
DB=$T/r.db
"$JIKO" import --db "$DB" "$EX" 2>/dev/null

# --- a line too long to hold in memory is an error, not the end of the input (row 2)
head -n 1 "$EX" >"$T/long.jsonl"
head -c 200000000 /dev/zero | tr '\0' ' ' >>"$T/long.jsonl"
printf 'x\n' >>"$T/long.jsonl"
sed -n 2p "$EX" >>"$T/long.jsonl"
expect_status 7 "import: out of memory on a long line is reported" -- sh -c "ulimit -v 150000; '$JIKO' import --db '$T/long.db' '$T/long.jsonl'"
contains "$T/err" "long.jsonl:2: line too long to hold in memory" "import names the line it could not hold"
contains "$T/err" "1 stored" "import stored the record before the long line"
expect_status 7 "classify: out of memory on a long line is reported" -- sh -c "ulimit -v 150000; '$JIKO' classify $NOW --json '$T/long.jsonl'"
contains "$T/err" "line too long to hold in memory" "classify says why it stopped"
rm -f "$T/long.jsonl"

# --- report --out never replaces the registry it reads (row 4)
cp "$DB" "$T/before.db"
expect_status 2 "report --out the registry is refused" -- "$JIKO" report --db "$DB" --fy 2021 --out "$DB"
contains "$T/err" "which this command reads" "refusal says why"
cmp -s "$DB" "$T/before.db" && pass "registry untouched by the refused --out" || fail "registry changed"
expect_status 2 "report --out the registry under another name is refused" -- "$JIKO" report --db "$DB" --fy 2021 --out "$T/./r.db"

# --- report --out on a failing disk leaves the old file whole (row 5)
# (a synthetic year: a quarterly batch of some MB, while SQLite's own files
# stay under the limit)
"$JIKO" synth --fy 2021 --no-prev --out "$T/syn.jsonl" 2>/dev/null
"$JIKO" import --db "$T/syn.db" "$T/syn.jsonl" 2>/dev/null
# a disk that fills during an import: the batches committed before stay,
# whole and readable, and the import says it failed
expect_status 5 "import onto a filling disk fails" -- bash -c "trap '' XFSZ; ulimit -f 1500; '$JIKO' import --db '$T/full.db' '$T/syn.jsonl'"
stored=$(grep -oE '[0-9]+ stored' "$T/err" | grep -oE '[0-9]+')
[ "$(sqlite3 "$T/full.db" 'PRAGMA integrity_check')" = ok ] && pass "the registry is intact after the full disk" || fail "registry damaged by the full disk"
[ -n "$stored" ] && [ "$stored" -gt 0 ] && [ "$(sqlite3 "$T/full.db" 'SELECT count(*) FROM incident')" = "$stored" ] &&
  [ $((stored % 1000)) -eq 0 ] && pass "whole batches kept: $stored records, as reported" || fail "stored $stored, registry $(sqlite3 "$T/full.db" 'SELECT count(*) FROM incident')"
echo old >"$T/out.csv"
expect_status 4 "report --out past the file-size limit fails" -- bash -c "trap '' XFSZ; ulimit -f 100; '$JIKO' report --db '$T/syn.db' quarter --fy 2021 --q 2 --format csv --out '$T/out.csv'"
contains "$T/err" "the file is unchanged" "the failure says the old file is kept"
[ "$(cat "$T/out.csv")" = old ] && pass "old output intact after a failed write" || fail "old output damaged"
[ "$(ls "$T" | grep -c 'out.csv.tmp')" -eq 0 ] && pass "no half-written file left" || fail "temporary file left"
expect_status 0 "report --out writes when it can" -- "$JIKO" report --db "$DB" --fy 2021 --format csv --table overview --out "$T/out.csv"
contains "$T/out.csv" "serious" "the new output replaced the old"

# --- an amendment naming another operator is rejected (row 6)
grep '"fy2021-07-globalsign"' "$EX" | sed 's/GMOグローバルサイン・ホールディングス株式会社/Other Co/' >"$T/other-op.jsonl"
expect_status 1 "amend with a record of another operator is rejected" -- "$JIKO" amend fy2021-07-globalsign --db "$DB" "$T/other-op.jsonl"
contains "$T/err" "field 'operator'" "the rejection names the operator field"
expect_status 0 "no incident was created for the other operator" -- "$JIKO" list --db "$DB" --operator "Other Co" --json
[ ! -s "$T/out" ] && pass "nothing stored under Other Co" || fail "an incident was stored under Other Co"
expect_status 6 "amend --operator of an operator without it: not found" -- "$JIKO" amend fy2021-07-globalsign --operator "Other Co" --db "$DB" "$T/other-op.jsonl"

# --- numbers are read strictly (row 7)
for bad in "list --fy FY2021" "list --quarter x" "list --quarter 0" "export --fy 2021x" "report --fy 2021.5" "import --batch 2000abc $EX" "synth --fy 2021 --seed 1e3"; do
  expect_status 2 "strict number: jiko $bad" -- "$JIKO" $bad --db "$DB"
done

# --- write errors are noticed (row 13)
for cmd in "export" "list" "history fy2021-07-globalsign" "show fy2021-07-globalsign"; do
  expect_status 4 "$cmd into a full device" -- sh -c "'$JIKO' $cmd --db '$DB' >/dev/full"
  contains "$T/err" "cannot write the output" "$cmd says the output could not be written"
done
expect_status 4 "rules show into a full device" -- sh -c "'$JIKO' rules show jp-2019 >/dev/full"
expect_status 4 "classify into a full device" -- sh -c "'$JIKO' classify $NOW '$EX' >/dev/full"
expect_status 4 "report into a full device" -- sh -c "'$JIKO' report --db '$DB' --fy 2021 >/dev/full"
expect_status 4 "classify of a directory is an error" -- "$JIKO" classify "$T"
contains "$T/err" "Is a directory" "the directory is named"
expect_status 4 "import of a directory is an error" -- "$JIKO" import --db "$DB" "$T"

# --- reading commands never create a registry (row 14)
for cmd in "list" "export" "show x" "history x" "report --fy 2021"; do
  expect_status 5 "$cmd on a mistyped --db" -- "$JIKO" $cmd --db "$T/typo.db"
  [ ! -e "$T/typo.db" ] && pass "$cmd created no registry" || { fail "$cmd created $T/typo.db"; rm -f "$T/typo.db"; }
done
contains "$T/err" "no registry here" "the error says there is no registry"
mkdir "$T/ro" && cp "$DB" "$T/ro/r.db"
chmod 444 "$T/ro/r.db"; chmod 555 "$T/ro"
if [ "$(id -u)" -eq 0 ]; then
  # root writes anyway: read as an unprivileged user
  chmod 755 "$T"; cp "$JIKO" "$T/jiko-ro"; chmod 755 "$T/jiko-ro"
  AS=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
  RO_JIKO=$T/jiko-ro
else
  AS=(); RO_JIKO=$JIKO
fi
expect_status 0 "list on a read-only registry in a read-only directory" -- "${AS[@]}" "$RO_JIKO" list --db "$T/ro/r.db" --json
[ "$(wc -l <"$T/out")" -eq 13 ] && pass "all 13 reports listed read-only" || fail "read-only list gave $(wc -l <"$T/out") lines"
expect_status 0 "report on a read-only registry" -- "${AS[@]}" "$RO_JIKO" report --db "$T/ro/r.db" --fy 2021 --table overview
[ "$(ls "$T/ro")" = r.db ] && pass "nothing written beside the read-only registry" || fail "files appeared: $(ls "$T/ro")"
chmod 755 "$T/ro"

# --- hostile text never reaches a terminal, a Markdown page or a spreadsheet raw (row 16)
# 20,000 users for 3 h: a detailed quarterly report (a serious one would not be in the quarterly batch)
printf '%s\n' '{"id":"evil\u001b[31m\nfake-row  jp-2019  serious","operator":"=HYPERLINK(\"http://x\")","started_at":"2021-08-03T15:00:00+09:00","ended_at":"2021-08-03T18:00:00+09:00","services":[{"service":"email_paid","effect":"stop","users":20000}],"summary":"<script>alert(1)</script> & <img src=x onerror=alert(1)>"}' >"$T/evil.jsonl"
expect_status 0 "classify a record with escapes and newlines in its id" -- "$JIKO" classify $NOW --explain "$T/evil.jsonl"
! grep -q $'\x1b' "$T/out" && pass "no escape character reaches the classify table" || fail "escape character in the classify table"
[ "$(grep -c 'fake-row' "$T/out")" -le 1 ] && ! grep -q '^fake-row' "$T/out" && pass "no forged row in the classify table" || fail "forged row in the classify table"
"$JIKO" import --db "$T/evil.db" "$T/evil.jsonl" 2>/dev/null
expect_status 0 "list the hostile record" -- "$JIKO" list --db "$T/evil.db"
! grep -q $'\x1b' "$T/out" && ! grep -q '^fake-row' "$T/out" && pass "list table neither escapes nor forges rows" || fail "list table passes control characters"
expect_status 0 "history of the hostile record" -- "$JIKO" history --db "$T/evil.db" --operator '=HYPERLINK("http://x")' $'evil\x1b[31m\nfake-row  jp-2019  serious'
! grep -q $'\x1b' "$T/out" && pass "history text has no escape characters" || fail "escape character in history"
expect_status 0 "Markdown case sheet of the hostile record" -- "$JIKO" report --db "$T/evil.db" incident --operator '=HYPERLINK("http://x")' $'evil\x1b[31m\nfake-row  jp-2019  serious' --format md
! grep -q '<script' "$T/out" && ! grep -q '<img' "$T/out" && pass "no raw HTML in the Markdown case sheet" || fail "raw HTML passes into Markdown"
contains "$T/out" "&lt;script>alert(1)&lt;/script> & &lt;img" "the summary is kept, as text"
expect_status 0 "quarterly batch as CSV" -- "$JIKO" report --db "$T/evil.db" quarter --fy 2021 --q 2 --format csv
grep -q "^detailed,\"'=HYPERLINK" "$T/out" && pass "a formula-like cell is neutralised" || fail "formula cell passes into CSV: $(sed -n 2p "$T/out" | cut -c1-60)"
expect_status 0 "yearly CSV keeps negative numbers numbers" -- "$JIKO" report --db "$DB" --fy 2021 --format csv
! grep -q "'-[0-9]" "$T/out" && pass "numbers are not quoted as text" || fail "a number was neutralised"

# --- times are limited to four-digit JST years (row 17)
printf '%s\n' '{"id":"far","operator":"O","started_at":"9999-12-31T23:59:59-23:59","services":[{"service":"ftth","effect":"stop","users":1}]}' >"$T/far.jsonl"
expect_status 1 "a start in JST year 10000 is rejected" -- "$JIKO" classify --json $NOW "$T/far.jsonl"
contains "$T/err" "outside the supported range" "the rejection gives the range"
! grep -q "10000-" "$T/out" && pass "no five-digit year is printed" || fail "a five-digit year was printed"

# --- a damaged registry is reported, never exported as if it were records (row 15)
cp "$DB" "$T/flip.db"
sqlite3 "$T/flip.db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null 2>&1
python3 - "$T/flip.db" "$JIKO" <<'PY'
import json, random, shutil, subprocess, sys
src, jiko = sys.argv[1], sys.argv[2]
data = open(src, "rb").read()
starts = [i for i in range(len(data)) if data.startswith(b'{"id"', i)]
bad = 0
for seed in range(40):
    rnd = random.Random(seed)
    at = rnd.choice(starts) + rnd.randrange(0, 300)
    b = bytearray(data)
    b[at] ^= 1 << rnd.randrange(8)
    path = src + ".%d" % seed
    open(path, "wb").write(b)
    p = subprocess.run([jiko, "export", "--db", path], capture_output=True)
    if p.returncode == 0:
        for line in p.stdout.splitlines():
            try:
                json.loads(line)
            except ValueError:
                bad += 1
                print("seed %d: exit 0 with a line that is not JSON: %r" % (seed, line[:60]))
                break
    elif b"damaged" not in p.stderr and b"malformed" not in p.stderr and p.returncode != 5:
        bad += 1
        print("seed %d: exit %d: %s" % (seed, p.returncode, p.stderr[:120]))
sys.exit(1 if bad else 0)
PY
[ $? -eq 0 ] && pass "40 byte-flipped registries: export gives valid JSON or a registry error" || fail "a flipped registry exported invalid JSON"
sqlite3 "$T/flip.db" "UPDATE incident_version SET record = replace(record, '\"operator\"', '\"operat0r\"') WHERE key = (SELECT min(key) FROM incident_version)" 2>/dev/null
expect_status 5 "export of a record edited behind jiko's back" -- "$JIKO" export --db "$T/flip.db"
contains "$T/err" "the registry is damaged" "the damage is named"

# --- detect --nab never overwrites its inputs (row 3)
mkdir -p "$T/nab/cat"
printf 'timestamp,value\n2020-01-01 00:00:00,1\n2020-01-01 00:05:00,2\n' >"$T/nab/cat/s.csv"
cp "$T/nab/cat/s.csv" "$T/nab-before.csv"
expect_status 2 "detect --nab D --out D is refused" -- "$JIKO" detect --nab "$T/nab" --out "$T/nab"
cmp -s "$T/nab/cat/s.csv" "$T/nab-before.csv" && pass "the NAB input is intact" || fail "the NAB input was truncated"
expect_status 2 "detect --nab D --out D/. is refused too" -- "$JIKO" detect --nab "$T/nab" --out "$T/nab/."
python3 -c "
print('timestamp,value')
for i in range(500): print(f'2020-01-01 00:00:00,{i}')" >"$T/nab/cat/s.csv"
expect_status 4 "detect --nab on a failing disk fails" -- bash -c "trap '' XFSZ; ulimit -f 4; '$JIKO' detect --nab '$T/nab' --out '$T/nab-out'"
contains "$T/err" "cannot write the scores" "the unwritable score file is named"

# --- forecast: rejected lines do not hide the final warning (row 8)
python3 - "$T/fill.csv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("timestamp,value\n")
    for i in range(2000):
        f.write(f"{1600000000 + i * 600},{1000 + i * 0.45 + (i % 7):.1f}\n")
    f.write("not a line\n")
PY
expect_status 10 "forecast warns (exit 10) although a line was rejected" -- "$JIKO" forecast --limit 2000 --horizon 3d "$T/fill.csv"
contains "$T/err" "fill.csv:2002" "the rejected line is still reported"
expect_status 2 "forecast --limit is read strictly" -- "$JIKO" forecast --limit 2000x "$T/fill.csv"

# --- Influx: names are never cut, lines without a timestamp get the current time (row 12)
python3 - "$T/long.lp" <<'PY'
import sys
a = "x" * 3000
with open(sys.argv[1], "w") as f:
    f.write(f"m,tag={a}1 v=1 1600000000000000000\nm,tag={a}2 v=2 1600000000000000000\nm v=3\n")
PY
expect_status 0 "detect on Influx with 3000-byte tags" -- "$JIKO" detect --format influx "$T/long.lp"
[ "$(cut -d, -f1-2 "$T/out" | grep -c 'xxx')" -eq 2 ] && pass "two long-named series stay two" || fail "long names merged"
year=$(date -u -d "+9 hours" +%Y) # the JST year, as jiko prints it
grep -q "^m.v,$year-" "$T/out" && pass "a line without a timestamp is stamped now" || fail "untimed line not stamped now"

# --- detect holds a bounded number of series (row 18)
python3 -c "
for i in range(300): print(f's{i},{1600000000 + i},1')" >"$T/many.csv"
expect_status 1 "detect beyond --max-series rejects the further series" -- "$JIKO" detect --max-series 100 "$T/many.csv"
contains "$T/err" "more than 100 series" "the cap is named"
contains "$T/err" "200 points of series beyond the first 100 were rejected" "the refused points are counted"
[ "$(wc -l <"$T/out")" -eq 101 ] && pass "the first 100 series are scored" || fail "scored $(wc -l <"$T/out") lines"

finish
