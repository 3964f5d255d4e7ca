#!/usr/bin/env bash
# `make demo` never rots: scripts/demo.sh run as `DEMO_NONINTERACTIVE=1`
# tells its whole story and exits 0 — the batch half (rulebooks, classify,
# registry, the FY2021 statistics, detect) and the live half (jiko serve,
# the Pepabo recording replayed at 600x, the NOC hearing the incident open,
# count down, turn serious and close, notices published, the status page and
# its feed).
# usage: test_demo.sh BUILD_DIR SOURCE_DIR
set -u
BUILD=$(cd "$1" && pwd)
SRC=$2
. "$(dirname "$0")/lib.sh"

cd "$SRC" || exit 1
expect_status 0 "DEMO_NONINTERACTIVE=1 scripts/demo.sh runs to its end" -- \
  env DEMO_NONINTERACTIVE=1 bash scripts/demo.sh "$BUILD"
cp "$T/out" "$T/demo.txt"
contains "$T/demo.txt" "jp-2019" "the rulebooks are listed"
contains "$T/demo.txt" "fy2021-06-docomo" "the FY2021 serious accidents are classified"
contains "$T/demo.txt" "報告の概要" "the yearly statistics are printed in Japanese"
contains "$T/demo.txt" "NOC webhook  incident.opened" "live: the incident opens (the NOC hears it)"
contains "$T/demo.txt" "incident.serious_soon  serious in 60 min" "live: the 60-minute alarm"
contains "$T/demo.txt" "incident.serious_soon  serious in 10 min" "live: the 10-minute alarm"
contains "$T/demo.txt" "NOC webhook  incident.serious " "live: it turns serious"
contains "$T/demo.txt" "NOC webhook  incident.closed" "live: it closes on recovery"
contains "$T/demo.txt" "456,516 users, report: serious" "live: the incident's users and report"
contains "$T/demo.txt" "--- first:" "live: the first report (初報) is drafted"
contains "$T/demo.txt" "--- recovery:" "live: the recovery report (復旧報) is drafted"
contains "$T/demo.txt" "demo: the live story ran" "live: every step seen, notices on the status page and in the feed"
if grep -q "^  !! " "$T/demo.txt"; then fail "a live step was missed: $(grep '^  !! ' "$T/demo.txt" | head -3)"; else pass "no live step missed"; fi
finish
