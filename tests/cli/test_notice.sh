#!/usr/bin/env bash
# jiko notice: drafts of the FY2021 NTT docomo case (first report while it
# went on, recovery report after), the JSON the API takes, the status page
# and Atom feed, and every usage and lookup error with its exit status.
# usage: test_notice.sh PATH/TO/jiko SOURCE_DIR
set -u
JIKO=$1
SRC=$2
. "$(dirname "$0")/lib.sh"
DB="$T/n.db"
D=株式会社NTTドコモ
"$JIKO" import --db "$DB" "$SRC/examples/fy2021-serious.jsonl" >/dev/null 2>&1

expect_status 0 "draft: the first report at 17:40" -- "$JIKO" notice draft "$D" fy2021-06-docomo --db "$DB" --now 2021-10-14T17:40:00+09:00
contains "$T/out" "【お詫び】携帯電話（音声）、携帯電話・PHS（データ通信）がご利用いただけない状況について" "the title first"
contains "$T/out" "■発生日時　2021年10月14日（木）17時37分頃" "the start in JST as operators write it"
contains "$T/out" "■次回のお知らせ　2021年10月14日（木）19時00分頃を予定しております" "the next update: an hour later, rounded up to the half hour"
expect_status 0 "draft: the recovery report in English, as JSON" -- "$JIKO" notice draft "$D" fy2021-06-docomo --db "$DB" --kind recovery --lang en --json --now 2021-10-16T00:00:00+09:00
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["kind"]=="recovery" and d["lang"]=="en" and "Restored: 19:57 JST, Thursday 14 October 2021" in d["body"], d' "$T/out" \
  && pass "--json: kind, lang, title, body; the body says when it was restored" || fail "--json: $(cat "$T/out")"
expect_status 1 "a recovery report before the end" -- "$JIKO" notice draft "$D" fy2021-06-docomo --db "$DB" --kind recovery --now 2021-10-14T18:00:00+09:00
contains "$T/err" "field 'kind'" "the error names the field"
expect_status 6 "an unknown incident" -- "$JIKO" notice draft "$D" nope --db "$DB"
expect_status 6 "an incident of another operator" -- "$JIKO" notice draft 楽天モバイル株式会社 fy2021-06-docomo --db "$DB"
expect_status 2 "an unknown kind" -- "$JIKO" notice draft "$D" fy2021-06-docomo --db "$DB" --kind second
expect_status 2 "an unknown language" -- "$JIKO" notice draft "$D" fy2021-06-docomo --db "$DB" --lang fr
expect_status 2 "a bad --now" -- "$JIKO" notice draft "$D" fy2021-06-docomo --db "$DB" --now yesterday
expect_status 2 "no incident id" -- "$JIKO" notice draft "$D" --db "$DB"
expect_status 2 "no subcommand" -- "$JIKO" notice
expect_status 2 "--atom is for the page" -- "$JIKO" notice draft "$D" fy2021-06-docomo --db "$DB" --atom
expect_status 0 "--help" -- "$JIKO" notice --help
contains "$T/out" "usage: jiko notice draft" "the help says the usage"
expect_status 5 "a registry that does not exist" -- "$JIKO" notice draft "$D" fy2021-06-docomo --db "$T/none.db"

expect_status 0 "page: IIJ's status page the day after" -- "$JIKO" notice page 株式会社インターネットイニシアティブ --db "$DB" --now 2021-10-15T09:00:00+09:00
contains "$T/out" "卸元（サービス提供元）: 株式会社NTTドコモ" "the receiver's page shows its provider's incident"
contains "$T/out" "【お詫び】音声通話・データ通信サービスがご利用しづらい事象について" "with the provider's notices"
if grep -q "<script" "$T/out"; then fail "the page has a script"; else pass "no script"; fi
expect_status 0 "page --atom" -- "$JIKO" notice page "$D" --atom --lang en --db "$DB" --now 2021-10-16T00:00:00+09:00
python3 -c '
import sys, xml.etree.ElementTree as ET
A = "{http://www.w3.org/2005/Atom}"
f = ET.parse(sys.argv[1]).getroot()
assert all(f.find(A + e) is not None for e in ("id", "title", "updated", "author")), "feed elements"
es = f.findall(A + "entry")
assert len(es) == 6 and all(e.find(A + x) is not None for e in es for x in ("id", "title", "updated", "content")), len(es)
' "$T/out" && pass "the feed parses, with RFC 4287's elements and docomo's six notices" || fail "the feed: $(head -c 300 "$T/out")"
expect_status 6 "page of an operator the registry does not know" -- "$JIKO" notice page "No Such Op" --db "$DB"
expect_status 2 "page takes no --kind" -- "$JIKO" notice page "$D" --kind first --db "$DB"
finish
