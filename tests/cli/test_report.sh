#!/usr/bin/env bash
# CLI tests for `jiko synth` and `jiko report`: the synthetic FY2021 year,
# imported and reported, is compared cell by cell with MIC's published figures
# in ../shared/data/fy2021 (read at test time); every format, the case sheet,
# the quarterly batch, errors, and the same report from PostgreSQL.
# usage: test_report.sh PATH/TO/jiko SOURCE_DIR [PG_URL_FILE]
set -u
JIKO=$1
SRC=$2
PGFILE=${3:-}
. "$(dirname "$0")/lib.sh"
PUBLISHED="$SRC/../shared/data/fy2021"
DB="$T/r.db"
TABLES="overview serious_by_year serious serious_services headline matrix services causes equipment"

# ---- synth: deterministic, and the figures do not depend on the seed
expect_status 0 "synth FY2021 (+ FY2020)" -- "$JIKO" synth --fy 2021 --seed 7 --out "$T/a.jsonl"
contains "$T/err" "FY2021: 13 serious-accident reports, 6709 detailed-form and 56866 simple-form reports from 176 and 44 operators" "synth summary for FY2021"
contains "$T/err" "FY2020: 4 serious-accident reports, 6612 detailed-form and 55001 simple-form reports from 129 and 33 operators" "synth summary for FY2020"
"$JIKO" synth --fy 2021 --seed 7 >"$T/b.jsonl" 2>/dev/null
cmp -s "$T/a.jsonl" "$T/b.jsonl" && pass "same seed, same bytes" || fail "synth is not deterministic"
"$JIKO" synth --fy 2021 --seed 8 >"$T/c.jsonl" 2>/dev/null
cmp -s "$T/a.jsonl" "$T/c.jsonl" && fail "another seed gave the same records" || pass "another seed, other records"
grep -c '"operator":"[^"]*(synthetic)"' "$T/a.jsonl" >"$T/n"
[ "$(cat "$T/n")" -eq $((125188 - 13)) ] && pass "every made-up record names a synthetic operator" || fail "synthetic operators: $(cat "$T/n")"

# ---- import and report
expect_status 0 "import the synthetic years" -- "$JIKO" import --db "$DB" "$T/a.jsonl"
contains "$T/err" "125188 stored, 0 amended, 0 unchanged, 0 rejected" "every synthetic record validates"
mkdir -p "$T/rep" "$T/rep8"
for t in $TABLES; do
  "$JIKO" report --db "$DB" --fy 2021 --format csv --table "$t" >"$T/rep/$t.csv" || fail "report --table $t"
done
if [ -d "$PUBLISHED" ]; then
  if python3 "$SRC/tests/cli/compare_published.py" "$PUBLISHED" "$T/rep" >"$T/cmp"; then
    pass "report of the synthetic year equals the published FY2021 figures ($(tail -1 "$T/cmp"))"
  else
    fail "published figures differ"; sed 's/^/    /' "$T/cmp" | head -20
  fi
else
  skip "comparison with the published figures: $PUBLISHED not found"
fi
# the comparison itself must be able to fail: change one published cell
if [ -d "$PUBLISHED" ]; then
  mkdir -p "$T/pub"; cp "$PUBLISHED"/*.csv "$T/pub/"
  sed -i 's/^2h_5h,3025,/2h_5h,3026,/' "$T/pub/matrix.csv"
  python3 "$SRC/tests/cli/compare_published.py" "$T/pub" "$T/rep" >"$T/cmp2" && fail "comparison missed a changed cell" ||
    contains "$T/cmp2" "published 3026, jiko 3025" "the comparison catches a changed cell"
fi
rm -f "$T/s8.db"
"$JIKO" import --db "$T/s8.db" "$T/c.jsonl" >/dev/null 2>&1
for t in overview matrix headline services causes; do
  "$JIKO" report --db "$T/s8.db" --fy 2021 --format csv --table "$t" >"$T/rep8/$t.csv"
done
# services and equipment subgroups without a published figure may vary; the rest may not
for t in overview matrix headline causes; do
  cmp -s "$T/rep/$t.csv" "$T/rep8/$t.csv" && pass "seed 8 gives the same $t" || fail "seed 8 changes $t"
done
grep -E '^(all|voice|data|other),,|^(voice|data),(fixed|mobile),' "$T/rep/services.csv" >"$T/s7"
grep -E '^(all|voice|data|other),,|^(voice|data),(fixed|mobile),' "$T/rep8/services.csv" >"$T/s8"
cmp -s "$T/s7" "$T/s8" && pass "seed 8 gives the same published service figures" || fail "seed 8 changes services"

# figures stated only in the release's text
python3 - "$JIKO" "$DB" <<'PY' && pass "JSON layout: headline changes, serious list, wholesale grouping" || fail "JSON report"
import json, subprocess, sys
j = json.loads(subprocess.run([sys.argv[1], "report", "--db", sys.argv[2], "--fy", "2021", "--format", "json"],
                              capture_output=True, text=True, check=True).stdout)
assert j["format"] == "jiko-yearly-report/1" and j["fiscal_year"] == 2021 and j["previous_year"] == 2020
h = {r["figure"]: r for r in j["headline"]}
assert (h["total"]["change"], h["users_lt_500"]["change"], h["users_ge_30k"]["change"], h["duration_ge_2h"]["change"]) == (97, 108, 15, 93)
assert (h["users_lt_500"]["share_pct"], h["users_ge_30k"]["share_pct"], h["duration_ge_2h"]["share_pct"]) == (93, 1, 99)
assert [h[k]["delta_pt"] for k in ("users_lt_500", "users_ge_30k", "duration_ge_2h")] == [0, 0, 0]
m = j["matrix"]
assert m["total"] == 6709 and m["row_share_pct"] == [0.3, 0.3, 0.1, 0.1, 49.4, 23.1, 15.7, 11.1]
assert m["column_share_pct"] == [92.8, 4.9, 1.3, 0.5, 0.4, 0.1] and m["cells"][0][:3] == [None] * 3
assert j["services"]["total"] == 12239 and j["equipment"]["known"] == 3975 and j["equipment"]["unknown"] == 2734
s = j["serious"]
assert len(s) == 7 and j["serious_reports"] == 13
assert [len(a["operators"]) for a in s] == [1, 1, 5, 1, 2, 2, 1], [a["operators"] for a in s]
assert s[5]["categories"] == "1,5" and s[0]["categories"] == "critical" and s[6]["duration_min"] == 34 * 60 + 9
ov = {r["report_type"]: r for r in j["overview"]}
assert (ov["serious"]["operators"], ov["serious"]["reports"]) == (10, 7)
PY

# §6: what the release has beyond the counts (catalogs/published.conf and the registry)
python3 - "$JIKO" "$DB" <<'PY' && pass "JSON: serious accidents by year with sources, 2(2) by service, matrix markers, published notes, the equipment table's published 2,636" || fail "JSON §6 members"
import json, subprocess, sys
j = json.loads(subprocess.run([sys.argv[1], "report", "--db", sys.argv[2], "--fy", "2021", "--format", "json"],
                              capture_output=True, text=True, check=True).stdout)
old = ["format", "fiscal_year", "previous_year", "rounding", "open_excluded", "overview", "serious_reports",
       "matrix", "headline", "services", "causes", "cause_not_given", "equipment", "serious"]
assert list(j)[:len(old)] == old, list(j)  # only members added, the earlier ones in place
y = {r["fiscal_year"]: r for r in j["serious_by_year"]}
assert sorted(y) == list(range(2008, 2022))
assert [y[k]["published"] for k in range(2008, 2016)] == [18, 18, 15, 17, 17, 14, 6, 8]
assert all(y[k]["published"] is None and y[k]["source"].startswith("not found offline") for k in range(2016, 2020))
assert (y[2020]["published"], y[2020]["registry"], y[2021]["published"], y[2021]["registry"]) == (4, 4, 7, 7)
assert y[2021]["published_operators"] == 10 and y[2019]["registry"] is None
assert all(r["source"] for r in j["serious_by_year"])
ss = j["serious_services"]
assert ss["accidents"] == 7 and {r["group"]: r["count"] for r in ss["rows"] if r["subgroup"] is None} == {"voice": 2, "data": 5, "other": 1}
m = j["matrix"]
assert [(x["mark"], x["duration"], x["users"]) for x in m["marks"]] == [
    ("※1", "1h_1h30m", "users_30k_100k"), ("※2", "1h_1h30m", "users_100k_1m"), ("※3", "12h_24h", "users_30k_100k"),
    ("※4", "ge_24h", "users_100k_1m"), ("※5", "2h_5h", "users_30k_100k")]
assert [x["no"] for x in m["serious_marks"]] == [2, 3, 4, 5, 6, 7]  # No. 1 (JSAT, 9社) has no users column
assert (m["serious_marks"][0]["duration"], m["serious_marks"][0]["users"]) == ("2h_5h", "users_100k_1m")
assert (m["serious_marks"][5]["duration"], m["serious_marks"][5]["users"]) == ("ge_24h", "users_30k_100k")
e = j["equipment"]
assert (e["known"], e["unknown"], e["known_published"], e["unknown_published"]) == (3975, 2734, 3975, 2636)
notes = j["published_notes"]
ja = [n["ja"][:3] for n in notes if n["table"] in ("overview", "serious_by_year")]
assert ja == ["注1 ", "注2 ", "注3 ", "注4 ", "注5 ", "注6 ", "注7 "], ja
assert all(n["source"] and n["en"] for n in notes)
assert any("送信型対電気通信設備サイバー攻撃" in n["ja"] for n in notes if n["table"] == "causes")
PY
expect_status 0 "text report, Japanese, the release's notes" -- "$JIKO" report --db "$DB" --fy 2021 --lang ja
contains "$T/out" "四半期ごとの報告を要する事故" "overview: the parent row of the two forms"
contains "$T/out" "注3 重大な事故の報告事業者数及び報告件数を含む。" "overview: 注3 as published"
contains "$T/out" "2 重大な事故の発生件数の推移（平成20年度〜令和3年度、件）" "the serious accidents by year, FY2008 on"
contains "$T/out" "注7 令和元年度の報告から、新たな区分" "注7 under the chart"
contains "$T/out" "2(2) 重大な事故のサービス別の内訳" "2(2) serious accidents by service"
contains "$T/out" "故障設備が不明な事故（2,636件）を除いた、故障設備が明確な事故件数（3,975件）" "equipment: 2,636 as published"
contains "$T/out" "jiko の再集計：総件数6,709件のうち故障設備が明確な事故3,975件、不明な事故2,734件（公表値の2,636件と3,975件の和は6,611件）" "equipment: jiko's recount beside it"
contains "$T/out" "※4 利用者から電気通信役務の提供の対価としての料金の支払を受けない" "matrix: the ※ notes"
contains "$T/out" "<1> は影響利用者数が事業者数で示されるため、表中に示さない。" "matrix: the accident without a users column is named"
contains "$T/out" "外的要因：他の電気通信事業者の設備障害等" "3(3): the definitions"
# the published figures are checked: a bad line is an error with its file and line, not a missing row
mkdir -p "$T/badcat"; cp "$SRC"/catalogs/*.conf "$T/badcat/"
sed -i '0,/^serious = 18$/s//serious = eighteen/' "$T/badcat/published.conf"
expect_status 3 "report with a malformed published figure" -- "$JIKO" report --db "$DB" --fy 2021 --catalog-dir "$T/badcat"
contains "$T/err" "published.conf:" "malformed published figure: the file is named"
contains "$T/err" "expected a count (0 or more) or \"unknown\"" "malformed published figure: what was expected"
expect_status 3 "jiko serve refuses a malformed published figure at start" -- timeout 20 "$JIKO" serve --db "$T/serve.db" --catalog-dir "$T/badcat" --listen 127.0.0.1:0
contains "$T/err" "published.conf:" "jiko serve names the file"
rm "$T/badcat/published.conf"
expect_status 0 "report without published.conf" -- "$JIKO" report --db "$DB" --fy 2021 --catalog-dir "$T/badcat" --format csv --table serious_by_year
contains "$T/out" "2021,,,7," "without published figures the registry's count still shows"

# ---- every format
expect_status 0 "text report in Japanese" -- "$JIKO" report --db "$DB" --fy 2021 --lang ja
contains "$T/out" "重大な事故" "Japanese text uses the release's terms"
contains "$T/out" "四半期報告対象外" "the matrix note uses the release's term for cells outside the duty"
contains "$T/out" "1 報告の概要（令和3年度、括弧内は令和2年度）" "fiscal years as era years"
contains "$T/out" "区分は電気通信事業法施行規則第58条の区分" "the category footnote cites the ordinance that has the categories"
"$JIKO" report --db "$DB" --fy 2021 --lang ja --table serious --format csv >"$T/ser.csv"
"$JIKO" report --db "$DB" --fy 2021 --lang ja --table serious --format md >"$T/ser.md"
contains "$T/ser.md" "| 一：緊急通報を取り扱う音声伝送役務 ／ 五：一から四までに掲げる電気通信役務以外の電気通信役務 |" "yearly list: the NTT docomo case's categories named as the ordinance words them"
contains "$T/ser.md" "| 衛星、海底ケーブルその他これに準ずる重要な電気通信設備の故障 |" "yearly list: the critical-facility clause by its name"
contains "$T/ser.csv" ',"1,5",' "yearly list: CSV keeps the category ids"
"$JIKO" report --db "$DB" --fy 2021 --lang en --table serious --format md >"$T/ser.md"
contains "$T/ser.md" "| 1 voice transmission that handles emergency calls; 5 every other telecom service |" "yearly list: categories in English"
! grep -q "事故報告規則の区分" "$T/out" && pass "no footnote citing the wrong ordinance" || fail "footnote cites 事故報告規則"
expect_status 0 "Markdown report" -- "$JIKO" report --db "$DB" --fy 2021 --format md --lang en
contains "$T/out" "## 3(1) Detailed-form reports by duration and affected users" "Markdown headings"
contains "$T/out" "| 2 h - 5 h | 3,025 | 236 | 40 | ※5 4 <5> | 7 <2><3> | 3 <4><6> | 3,315 | 49.4% |" "Markdown matrix row: counts with the release's ※ marker and the serious accidents' <n>"
expect_status 0 "HTML report to a file" -- "$JIKO" report --db "$DB" --fy 2021 --format html --lang ja --out "$T/r.html"
python3 - "$T/r.html" <<'PY' && pass "HTML is well formed, has 5 inline SVG charts, print CSS, no network" || fail "HTML report"
import sys
from html.parser import HTMLParser
text = open(sys.argv[1], encoding="utf-8").read()
class P(HTMLParser):
    void = {"meta", "br", "rect", "hr", "img", "link"}
    def __init__(self):
        super().__init__(); self.stack = []; self.svgs = 0
    def handle_starttag(self, tag, a):
        if tag == "svg": self.svgs += 1
        if tag not in self.void: self.stack.append(tag)
    def handle_startendtag(self, tag, a): pass
    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-3:])
        self.stack.pop()
p = P(); p.feed(text)
assert not p.stack, p.stack
assert p.svgs == 5, p.svgs
# no network: nothing loaded from elsewhere (the sources quoted in the text may name their URLs)
import re
assert "@media print" in text and not re.search(r'(src|href)\s*=\s*"[a-z]+:|url\(', text.split("<body>")[1])
assert 'data-raw="6709"' in text and '<td class="na" data-raw="na">' in text
PY
expect_status 0 "all tables as CSV" -- "$JIKO" report --db "$DB" --fy 2021 --format csv
[ "$(grep '^# ' "$T/out" | tr '\n' ' ')" = "# overview # serious_by_year # serious # serious_services # headline # matrix # services # causes # equipment " ] &&
  pass "CSV has the 9 tables in the release's order" || fail "CSV tables: $(grep '^# ' "$T/out" | tr '\n' ' ')"

# ---- case sheet
expect_status 0 "case sheet, Markdown, ja" -- "$JIKO" report incident fy2021-02-pepabo --db "$DB" --lang ja
contains "$T/out" "| 事業者名 | GMOペパボ株式会社 |" "case sheet: operator"
contains "$T/out" "| 継続時間 | 2時間25分 |" "case sheet: duration"
contains "$T/out" "| 影響利用者数 | 最大456,516人 |" "case sheet: users as reported, with their qualifier (最大)"
contains "$T/out" "| 発生日時 | 令和3年8月3日 15時00分 |" "case sheet: start as an era date and time"
contains "$T/out" "令和3年8月3日 15時20分 初報（自社サイト）: ムームーメールをご利用のお客様へ" "case sheet: notices time line, channel in words"
! grep -qE '\((web|press|sns)\)|critical|telecom' "$T/out" && pass "case sheet: no raw codes in the Japanese text" || fail "raw codes in the Japanese case sheet"
contains "$T/out" "報告書: 令和3年9月2日まで" "case sheet: written report due (30 days, first day not counted)"
contains "$T/out" "五：一から四までに掲げる電気通信役務以外の電気通信役務" "case sheet: the category numbered and named as the ordinance does"
contains "$T/out" "| 障害内容 | インターネット関連サービス（有料）（電子メール）の提供の停止（利用不可） |" "case sheet: the summary in Japanese as in the release"
contains "$T/out" "＜暫定対処＞<br>リバースプロキシサーバの台数を増強する。【令和3年8月3日実施完了】" "case sheet: measures as interim / permanent with their state and date"
contains "$T/out" "【令和4年11月30日実施完了予定】" "case sheet: a planned measure"
contains "$T/out" "| 事業者への問合せ件数 | 1,767件 |" "case sheet: inquiries to the operator"
contains "$T/out" "<br>＜長期化した原因＞復旧作業中に" "case sheet: the cause in its parts"
# 様式第27's causes include 送信型対電気通信設備サイバー攻撃 since 2019-04-01
printf '%s\n' '{"id":"cyber-1","operator":"Cyber Co","started_at":"2021-08-03T15:00:00+09:00","ended_at":"2021-08-03T18:00:00+09:00","services":[{"service":"ftth","effect":"stop","users":100}],"cause":{"category":"external","kind":"outbound_cyber_attack","detail":"踏み台"}}' >"$T/cyber.jsonl"
"$JIKO" import --db "$T/cyber.db" "$T/cyber.jsonl" 2>/dev/null
expect_status 0 "case sheet of an outbound cyber attack" -- "$JIKO" report incident cyber-1 --db "$T/cyber.db" --lang ja
contains "$T/out" "| 発生原因 | 外的要因（送信型対電気通信設備サイバー攻撃）：踏み台 |" "case sheet: the cause kind 送信型対電気通信設備サイバー攻撃"
expect_status 0 "case sheet, HTML, en, wholesale" -- "$JIKO" report incident fy2021-03-arteria --db "$DB" --lang en --format html
for op in 株式会社U-NEXT つなぐネットコミュニケーションズ株式会社 株式会社ファミリーネット・ジャパン 楽天モバイル株式会社; do
  contains "$T/out" "※$op" "case sheet lists and marks (※) the wholesale receiver $op"
done
! grep -q "※アルテリア" "$T/out" && pass "the facility owner is not marked ※" || fail "the owner is marked as a receiver"
contains "$T/out" "<th>Serious-accident category</th><td>5 " "case sheet: category in English"
contains "$T/out" "<th>Affected users</th><td>up to about 500,000 users</td>" "case sheet: users with their qualifier in English"
contains "$T/out" "<th>What happened</th><td>Name resolution failed" "case sheet: the English summary for --lang en"
expect_status 6 "case sheet of an unknown incident" -- "$JIKO" report incident no-such-id --db "$DB"
contains "$T/err" "no incident 'no-such-id'" "not-found message"

# ---- quarterly batch
expect_status 0 "quarterly batch CSV" -- "$JIKO" report quarter --fy 2021 --q 2 --db "$DB" --format csv
python3 - "$T/out" "$JIKO" "$DB" <<'PY' && pass "quarterly batch: every Q2 report once, split by form, due 2021-11-30" || fail "quarterly batch"
import csv, json, subprocess, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
listed = [json.loads(l) for l in subprocess.run([sys.argv[2], "list", "--db", sys.argv[3], "--fy", "2021", "--quarter", "2", "--json"],
                                                 capture_output=True, text=True, check=True).stdout.splitlines()]
# serious accidents owe no quarterly report under jp-2019 (serious_quarterly_duty = no)
want = [r for r in listed if r["report"] in ("detailed", "simple")]
assert len(rows) == len(want) > 10000, (len(rows), len(want))
serious = {(r["operator"], r["id"]) for r in listed if r["report"] == "serious"}
assert serious and not serious & {(r["operator"], r["id"]) for r in rows}
assert {r["due"] for r in rows} == {"2021-11-30"}
forms = [r["form"] for r in rows]
assert forms == sorted(forms), "detailed first, then simple"
assert forms.count("simple") == sum(r["report"] == "simple" for r in want)
PY
expect_status 0 "quarterly batch text" -- "$JIKO" report quarter --fy 2021 --q 3 --db "$DB" --lang ja
contains "$T/out" "令和3年度（2021年度） 第3四半期" "fiscal year in the Japanese era, the Gregorian year in brackets"
contains "$T/out" "提出期限: 令和4年2月28日" "quarterly due date in Japanese text, as an era date"
expect_status 0 "quarterly batch text for one operator" -- "$JIKO" report quarter --fy 2021 --q 3 --operator "株式会社NTTドコモ" --db "$DB" --lang ja
! grep -q "fy2021-06-docomo" "$T/out" && pass "the operator's serious accident is not in its quarterly batch" || fail "serious accident in the quarterly batch"

# ---- errors
expect_status 2 "report without --fy" -- "$JIKO" report --db "$DB"
expect_status 2 "unknown table" -- "$JIKO" report --db "$DB" --fy 2021 --table nope
expect_status 2 "unknown format" -- "$JIKO" report --db "$DB" --fy 2021 --format pdf
expect_status 2 "bad quarter" -- "$JIKO" report quarter --fy 2021 --q 5 --db "$DB"
expect_status 0 "report --help" -- "$JIKO" report --help
contains "$T/out" "usage: jiko report" "report help"
expect_status 0 "synth --help" -- "$JIKO" synth --help
expect_status 2 "synth without --fy" -- "$JIKO" synth
expect_status 3 "synth with no figures for the year" -- "$JIKO" synth --fy 1999 --no-prev
contains "$T/err" "fy1999.conf" "missing figures name the file"
mkdir -p "$T/st"
sed 's/^matrix.2h_5h = 3025/matrix.2h_5h = 30x25/' "$SRC/stats/fy2021.conf" >"$T/st/fy2021.conf"
expect_status 3 "synth with a malformed figure" -- "$JIKO" synth --fy 2021 --no-prev --stats-dir "$T/st"
contains "$T/err" "fy2021.conf:19: field 'matrix.2h_5h': cell 1: expected a count from 0 to 10000000 or na, got '30x25'" "malformed figure: file, line, field, expectation"
sed 's/^causes.human = 2%/causes.human = 20%/' "$SRC/stats/fy2021.conf" >"$T/st/fy2021.conf"
expect_status 3 "synth with shares over 100%" -- "$JIKO" synth --fy 2021 --no-prev --stats-dir "$T/st"
contains "$T/err" "equipment, human and external causes add up to" "shares that do not add up are refused"
expect_status 4 "report to an unwritable file" -- "$JIKO" report --db "$DB" --fy 2021 --out /nonexistent/x.txt

# an ongoing incident is not counted, and the report says so
printf '%s\n' '{"id":"live-1","operator":"X (synthetic)","started_at":"2021-06-01T00:00:00+09:00","ended_at":null,"services":[{"service":"ftth","effect":"stop","users":50}]}' >"$T/live.jsonl"
"$JIKO" import --db "$DB" "$T/live.jsonl" >/dev/null 2>&1
expect_status 0 "report with an ongoing incident" -- "$JIKO" report --db "$DB" --fy 2021 --table overview --lang en
contains "$T/out" "1 ongoing incidents are not counted." "ongoing incidents are named, not counted"
contains "$T/out" "Quarterly, detailed form            176    6,709" "totals unchanged by the ongoing incident"

# ---- the same report from PostgreSQL (the serious accidents only: small and quick)
if [ -n "$PGFILE" ] && [ -s "$PGFILE" ]; then
  PGURL=$(cat "$PGFILE")
  psql "$PGURL" -qc "DROP VIEW IF EXISTS incident_current; DROP TABLE IF EXISTS incident_version, incident, api_token, webhook_outbox, jiko_schema" >/dev/null 2>&1
  "$JIKO" import --db "$PGURL" "$SRC/examples/fy2021-serious.jsonl" >/dev/null 2>&1
  "$JIKO" import --db "$T/small.db" "$SRC/examples/fy2021-serious.jsonl" >/dev/null 2>&1
  "$JIKO" report --db "$PGURL" --fy 2021 --format json >"$T/pg.json"
  "$JIKO" report --db "$T/small.db" --fy 2021 --format json >"$T/sq.json"
  cmp -s "$T/pg.json" "$T/sq.json" && [ -s "$T/pg.json" ] && pass "PostgreSQL and SQLite give the same report" ||
    { fail "PostgreSQL report differs"; diff "$T/pg.json" "$T/sq.json" | head -10; }
else
  skip "PostgreSQL report: no cluster URL"
fi
finish
