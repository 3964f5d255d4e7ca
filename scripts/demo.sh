#!/usr/bin/env bash
# `make demo`: the rulebooks, the FY2021 serious accidents of seed 000
# classified, a live outage counting down to "serious", the registry, the
# FY2021 statistics from a synthetic year that reproduces MIC's figures, a
# KPI anomaly, then live: `jiko serve` with its dashboard, a KPI recording
# replayed at 600x (the incident opens, counts down, turns serious, closes),
# notices published, the status page (scripts/demo_live.py).  Interactive
# runs end by printing the dashboard's URL and wait for Ctrl-C;
# DEMO_NONINTERACTIVE=1 tells what happened and exits.
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
jiko="$build/jiko"
hr() { printf '\n\033[1m== %s\033[0m\n' "$1"; }

hr "Rulebooks (reporting rules as data, one file per amendment) — jiko rules list"
"$jiko" rules list

hr "FY2021 serious accidents (seed 000): 7 accidents, 13 reports from 10 operators — jiko classify"
"$jiko" classify --lang en "$root/examples/fy2021-serious.jsonl"

hr "Why: the NTT docomo case, in Japanese — jiko classify --lang ja --explain"
grep '"fy2021-06-docomo"' "$root/examples/fy2021-serious.jsonl" | "$jiko" classify --lang ja --explain -

hr "A live outage: mail down for 456,516 users since 15:00, it is now 16:15 — when does it turn serious?"
live='{"id":"live-1","operator":"Demo ISP","started_at":"2021-08-03T15:00:00+09:00","ended_at":null,"services":[{"service":"email_paid","effect":"stop","users":456516}],"equipment":"application_server"}'
echo "$live" | "$jiko" classify --lang en --explain --now 2021-08-03T16:15:00+09:00 -
echo
echo "The contract's JSON (docs/incident-format.md):"
echo "$live" | "$jiko" classify --json --lang en --now 2021-08-03T16:15:00+09:00 - | python3 -m json.tool --no-ensure-ascii

hr "The registry: import the FY2021 reports into an embedded SQLite registry — jiko import / list / history"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
db=$tmp/jiko-demo.db
"$jiko" import --db "$db" "$root/examples/fy2021-serious.jsonl"
grep '"fy2021-07-globalsign"' "$root/examples/fy2021-serious.jsonl" | sed 's/"users": 41417/"users": 41500/g' |
  "$jiko" amend fy2021-07-globalsign --db "$db" --reason "user count corrected" -
"$jiko" list --db "$db" --fy 2021 --quarter 3
"$jiko" history --db "$db" fy2021-07-globalsign | cut -c1-160

hr "The yearly statistics: a synthetic FY2021 (+ FY2020) that reproduces MIC's published figures — jiko synth, import, report"
"$jiko" synth --fy 2021 --out "$db.syn.jsonl"
"$jiko" import --db "$db.stats" "$db.syn.jsonl"
"$jiko" report --db "$db.stats" --fy 2021 --lang ja --table overview
"$jiko" report --db "$db.stats" --fy 2021 --lang ja --table matrix
"$jiko" report --db "$db.stats" --fy 2021 --lang en --table services
"$jiko" report --db "$db.stats" --fy 2021 --lang en --table serious --format csv | cut -d, -f1-5
"$jiko" report --db "$db.stats" --fy 2021 --format html --out "$build/fy2021-report.html"
echo "(the whole report as HTML with charts: $build/fy2021-report.html)"

hr "The serious-accident case sheet — jiko report incident fy2021-02-pepabo --lang ja"
"$jiko" report --db "$db.stats" incident fy2021-02-pepabo --lang ja

hr "Watch: a DNS retry storm in 5-minute KPIs (Influx line protocol) — jiko detect --events"
python3 - "$db.lp" <<'PY'
import math, random, sys
random.seed(4)
with open(sys.argv[1], "w") as f:
    for i in range(5 * 288):
        t = 1631000000 + i * 300
        day = math.sin(2 * math.pi * (i % 288) / 288)
        q = 50000 + 20000 * day + random.gauss(0, 1500)
        fail = 0.2 + random.random() * 0.2
        if 1200 <= i < 1250:        # the storm: retries multiply the load, answers fail
            q *= 3.5
            fail = 35 + random.random() * 10
        f.write(f"dns,site=tokyo queries={q:.0f}i,failure_pct={fail:.2f} {t}000000000\n")
PY
"$jiko" detect --format influx --events "$db.lp"

hr "Live: jiko serve, its dashboard, and the KPIs of 2021-08-03 replayed — jiko serve, jiko replay"
python3 "$root/scripts/demo_live.py" "$jiko" "$db.stats"
