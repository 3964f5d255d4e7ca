#!/usr/bin/env bash
# `make demo`: the rulebooks, the FY2021 serious accidents of seed 000
# classified, and a live outage counting down to "serious".
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
