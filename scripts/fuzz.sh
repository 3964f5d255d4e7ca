#!/usr/bin/env bash
# Run each libFuzzer target for SECONDS (default 60): the incident,
# rulebook and holiday calendar parsers, seeded from the project's own data (rulebooks, catalogs,
# example incidents, malformed records), and the Influx line protocol and
# Prometheus remote_write parsers, seeded with small valid and invalid
# bodies, the reports over records stored in a registry, and the server's
# config file ([serve] and [webhook NAME] subscriptions).  Crashes are saved in fuzz/artifacts/.
# usage: scripts/fuzz.sh BUILD_DIR [SECONDS]
set -euo pipefail
build=${1:-build-fuzz}
secs=${2:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
work="$build/fuzz-work"
mkdir -p "$work/incident" "$work/rules" "$work/holiday" "$work/influx" "$work/prom" "$work/report" "$work/serve" "$work/watch" "$work/config" "$work/notice" "$root/fuzz/artifacts"

# Seed corpora (regenerated each run; libFuzzer adds what it finds).
i=0
while IFS= read -r line; do
  i=$((i + 1)); printf '%s' "$line" >"$work/incident/seed-example-$i"
done <"$root/examples/fy2021-serious.jsonl"
grep -h '^{' "$root"/tests/cases/bad-records.txt | head -100 | while IFS= read -r line; do
  i=$((i + 1)); printf '%s' "$line" >"$work/incident/seed-bad-$i"
done
# report seeds: the serious accidents together, and in small groups
cp "$root/examples/fy2021-serious.jsonl" "$work/report/seed-all"
head -3 "$root/examples/fy2021-serious.jsonl" >"$work/report/seed-3"
sed -n '3,7p' "$root/examples/fy2021-serious.jsonl" >"$work/report/seed-wholesale"
# inputs that once crashed a target stay in its seeds
for f in "$root"/fuzz/regressions/report-*; do
  if [ -e "$f" ]; then cp "$f" "$work/report/seed-regression-$(basename "$f")"; fi
done
for f in "$root"/fuzz/regressions/watch-*; do
  if [ -e "$f" ]; then cp "$f" "$work/watch/seed-regression-$(basename "$f")"; fi
done
for f in "$root"/rules/*.rules "$root"/tests/cases/*.rules "$root"/catalogs/*.conf; do
  cp "$f" "$work/rules/seed-$(basename "$f")"
done
# hand-written seeds for forms the project's data use little (fuzz/seeds/TARGET-*)
for t in rules incident; do
  for f in "$root"/fuzz/seeds/"$t"-*; do
    if [ -e "$f" ]; then cp "$f" "$work/$t/seed-$(basename "$f")"; fi
  done
done
# holiday seeds: the shipped calendar, and a small one of two years
cp "$root/catalogs/holidays.conf" "$work/holiday/seed-holidays.conf"
printf '[calendar]\nfirst_year = 2021\nlast_year = 2022\nweekend = saturday sunday\nyear_end = 12-29 01-03\nsource = s\n[year 2021]\nholiday = 2021-05-03 a | b\n[year 2022]\n' >"$work/holiday/seed-small"

# Influx seeds: first byte = options (see fuzz_influx.c), then the body.
i=0
for body in \
  'cpu,host=a,region=eu usage=0.5,idle=99i,up=t,name="x \"y\"" 1700000000000000000' \
  'my\ meas\,ure,k\=1=v\ 1 f\ x=1u,g=-1.5e-3 -5' \
  '# comment
m v=1
bad line
m,b=2,a=1 v=2,s="str" 3' ; do
  for opt in '\x00' '\x03' '\x0c' '\x34'; do
    i=$((i + 1)); printf "$opt%s" "$body" >"$work/influx/seed-$i"
  done
done

# remote_write seeds (mode byte 0: raw protobuf, compressed by the target):
# one series {__name__="up", job="n"} with one sample (1.0 @ 1000 ms),
# plus the same with an appended histogram (field 4) and metadata (field 3).
ts='\x0a\x0e\x0a\x08__name__\x12\x02up\x0a\x08\x0a\x03job\x12\x01n\x12\x0c\x09\x00\x00\x00\x00\x00\x00\xf0\x3f\x10\xe8\x07'
printf "\x00\x0a\x28$ts" >"$work/prom/seed-1"
printf "\x02\x0a\x28$ts\x0a\x28$ts" >"$work/prom/seed-2"
printf "\x00\x0a\x2c$ts\x22\x02\x08\x05\x1a\x03\x08\x01\x12" >"$work/prom/seed-3"
printf '\x01\x00' >"$work/prom/seed-4"   # snappy of an empty message

# serve seeds: method byte (0 GET, 1 POST), the request target, a newline, the body.
i=0
for t in '/api/v1/incidents?fy=2021&quarter=2&limit=5' '/api/v1/incidents/%E6%A0%AA%E5%BC%8F/x%2Fy' \
         '/api/v1/incidents/A/id-1/history' '/api/v1/rules/jp-2019' '/api/v1/reports/fy/2021?format=csv' \
         '/api/v1/incidents?cursor=5b312c2241222c2278225d' '/api/v1/classify?now=2021-08-03T16:15:00%2B09:00&lang=ja'; do
  i=$((i + 1)); printf '\x00%s\n' "$t" >"$work/serve/seed-get-$i"
done
i=0
while IFS= read -r line; do
  i=$((i + 1))
  printf '\x01/api/v1/classify\n%s' "$line" >"$work/serve/seed-classify-$i"
  printf '\x01/api/v1/incidents\n%s' "$(printf '%s' "$line" | sed 's/"operator": *"[^"]*"/"operator":"A"/')" >"$work/serve/seed-post-$i"
done < <(head -4 "$root/examples/fy2021-serious.jsonl")
printf '\x01/api/v1/incidents\n%s\n%s\n' "$(head -1 "$root/examples/fy2021-serious.jsonl")" '{"id":1}' >"$work/serve/seed-jsonl"

# watch seeds: the example configuration, and selectors one per file
cp "$root/examples/jiko.conf" "$work/watch/seed-example"
i=0
for m in 'm{a="b", c!="d", e=~"f.*", g!~"[0-9]+"}' '{alertname="X"}' 'm{a=~"(a|b"}' 'm{a="\\q"}' 'x{a=~"\\d"}'; do
  i=$((i + 1))
  printf '[watch w]\nmatch = %s\noperator = A\nservice = dns\nusers = 1\n[live]\nlead_minutes = 5, 1\n' "$m" >"$work/watch/seed-$i"
done
# serve seeds for the ingest endpoints (as an ingest token of operator A)
printf '\x01/api/v1/alerts\n%s' '{"version":"4","alerts":[{"status":"firing","labels":{"alertname":"X"},"startsAt":"2021-08-03T15:00:00Z"},{"status":"resolved","labels":{"alertname":"X"},"startsAt":"2021-08-03T15:00:00Z","endsAt":"2021-08-03T16:00:00Z"}]}' >"$work/serve/seed-alerts"
printf '\x01/api/v2/write?precision=s\n%s' 'kpi,site=a value=0.5 1627970400
kpi,site=a value=0.9 1627970460' >"$work/serve/seed-influx"

# config seeds: each broken subscription of tests/cases/webhook-errors.txt,
# and a whole valid file
awk -v dir="$work/config" '/^=== /{n++; next} /^--- /{next} /^#/ && !n{next} n{print > (dir "/seed-" n)}' \
  "$root/tests/cases/webhook-errors.txt"
printf '[serve]\nthreads = 2\nrate = 50\n[watch a]\nmatch = x\n[live]\n[webhook noc]\noperator = Demo ISP\nurl = https://noc.example.net/h?x=1\nsecret = whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\nevents = incident.opened, incident.closed\n[webhook mic]\nregulator = true\nurl = http://[::1]:8080/mic\nsecret = whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw==\n' >"$work/config/seed-valid"

# notice seeds: drafts as the API gives them, edited, and the optional members
printf '%s' '{"kind":"first","lang":"ja","title":"【お詫び】FTTHがご利用いただけない状況について","body":"平素は…\n■発生日時　2021年8月3日（火）15時00分頃\n<b>&amp;</b>"}' >"$work/notice/seed-draft"
printf '%s' '{"kind":"update","body":"x","channel":"sns","at":"2021-08-03T16:00:00+09:00","lang":"en"}' >"$work/notice/seed-all"
printf '%s' '{"kind":"recovery","body":"\u0007","title":"a\nb"}' >"$work/notice/seed-bad"
# serve seeds for the notice routes and the public pages
printf '\x00%s\n' '/api/v1/incidents/A/id-1/notices/draft?kind=first&lang=en' >"$work/serve/seed-draft"
printf '\x01%s\n%s' '/api/v1/incidents/A/id-1/notices' "$(cat "$work/notice/seed-all")" >"$work/serve/seed-notice"
printf '\x00%s\n' '/status/A?lang=en' >"$work/serve/seed-status"
printf '\x00%s\n' '/status/A/feed.atom' >"$work/serve/seed-feed"

status=0
for t in incident rules holiday influx prom report serve watch config notice; do
  echo "fuzz_$t: ${secs}s"
  max_len=65536
  asan=${ASAN_OPTIONS:-}
  if [ "$t" = report ] || [ "$t" = serve ]; then
    # A few records reach every table; longer inputs only cost time.  ASan's
    # fill of each new block (0xbe, up to 4 KiB) was two thirds of this
    # target's time: it computes a whole report per input.
    max_len=4096
    asan="max_malloc_fill_size=0${asan:+:$asan}"
  fi
  if ! ASAN_OPTIONS="$asan" "$build/fuzz_$t" -max_total_time="$secs" -max_len=$max_len -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$root/fuzz/artifacts/$t-" -print_final_stats=1 \
        "$work/$t" 2>"$work/$t.log"; then
    echo "fuzz_$t FAILED; see $work/$t.log and fuzz/artifacts/" >&2
    tail -40 "$work/$t.log" >&2
    status=1
  else
    grep -E 'stat::number_of_executed_units|stat::new_units_added' "$work/$t.log" | sed 's/^/  /'
    units=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$work/$t.log" | grep -oE '[0-9]+$' || echo 0)
    echo "  executions/s: $((units / secs))"
  fi
done
exit $status
