#!/usr/bin/env bash
# live_bench.sh — KPI samples into the live engine (make bench), against
# Prometheus receiving the same remote_write bodies, in one run.
#
# All on 127.0.0.1, each load bounded in time:
#   prometheus  Debian's Prometheus 2.42 with --web.enable-remote-write-receiver
#               (its TSDB in a temporary directory, no scraping)
#   jiko        jiko serve: the live engine behind POST /api/v1/write, one
#               [watch] on series 0 (the others are detected, not watched);
#               in the 100,000-series run the [watch] selects every series
# bench_live_send (bench/live_send.c) sends bodies of 2,000 samples over
# $LB_CONNS connections for $LB_SECONDS s to each, $LB_REPEAT times
# interleaved; the table gives samples/s (median) and the ratio to
# Prometheus'.  In jiko's first run series 0 jumps half way: the time from
# sending that body to its answer is the time from the first anomalous
# sample's arrival to the incident committed (jiko answers after the
# commit).  Then $LB_BIG_SERIES series at once: memory (resident, and the
# engine's own count of its series' memory) and samples/s, both receivers.
#
# usage: bench/live_bench.sh [BUILD_DIR]
# env:   LB_SERIES=10000 LB_SECONDS=10 LB_REPEAT=3 LB_CONNS=2 LB_BIG_SERIES=100000
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
JIKO=$BUILD/jiko
SEND=$BUILD/bench_live_send
SERIES=${LB_SERIES:-10000}
SECS=${LB_SECONDS:-10}
REPEAT=${LB_REPEAT:-3}
CONNS=${LB_CONNS:-2}
BIG=${LB_BIG_SERIES:-100000}

die() { echo "live_bench: $*" >&2; exit 1; }
for t in prometheus python3 curl; do
  command -v "$t" >/dev/null 2>&1 || die "$t is missing (scripts/deps.sh installs it)"
done
[ -x "$JIKO" ] && [ -x "$SEND" ] || die "no $JIKO or $SEND: build first (make build)"

W=$(mktemp -d "$BUILD/live-bench.XXXXXX")
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
rss_mb() { awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
field() { grep -o "$1=[^ ]*" | cut -d= -f2; }

echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ); cpu: $(nproc) cores; load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "prometheus: $(prometheus --version 2>&1 | head -1 | awk '{print $3}')"

start_receivers() { # $1: tag
  local tag=$1
  P_PORT=$(free_port)
  printf 'global:\n  scrape_interval: 1h\n' > "$W/prom.yml"
  prometheus --config.file="$W/prom.yml" --web.listen-address=127.0.0.1:$P_PORT \
    --storage.tsdb.path="$W/tsdb-$tag" --web.enable-remote-write-receiver >"$W/prom-$tag.log" 2>&1 &
  P_PID=$!
  PIDS+=($P_PID)
  J_PORT=$(free_port)
  cat > "$W/jiko-$tag.conf" <<EOF
[serve]
listen = 127.0.0.1:$J_PORT
rate = 0
max_body_bytes = 8388608
[live]
max_series = $((BIG + SERIES))
checkpoint = $W/live-$tag.ckpt
[watch kpi-0]
match = $([ "$tag" = big ] && echo 'kpi_bench{job="bench"}' || echo 'kpi_bench{site="s000000"}')
operator = Bench ISP
service = internet_access
users = 50000
EOF
  TOKEN=$("$JIKO" token create --db "$W/jiko-$tag.db" --role ingest --operator "Bench ISP" 2>/dev/null)
  "$JIKO" serve --db "$W/jiko-$tag.db" --config "$W/jiko-$tag.conf" --ready-file "$W/ready-$tag" \
    >"$W/jiko-$tag.log" 2>&1 &
  J_PID=$!
  PIDS+=($J_PID)
  for _ in $(seq 300); do
    [ -f "$W/ready-$tag" ] && curl -sf "http://127.0.0.1:$P_PORT/-/ready" >/dev/null && return 0
    sleep 0.1
  done
  die "the receivers did not start: $(tail -3 "$W/prom-$tag.log" "$W/jiko-$tag.log")"
}

# ---- samples/s at $SERIES series ----
start_receivers main
P_START=""; J_START=""
for i in $(seq "$REPEAT"); do
  out=$(LIVE_SEND_START_MS=$P_START "$SEND" 127.0.0.1 "$P_PORT" /api/v1/write - "$SERIES" "$SECS" "$CONNS") ||
    echo "live_bench: prometheus run $i had errors: $out" >&2
  echo "prometheus run $i: $out"
  P_START=$(echo "$out" | field next_start_ms); echo "$out" | field samples_per_s >> "$W/p.txt"
  spike=(); [ "$i" = 1 ] && spike=(--spike-at $(awk -v s="$SECS" 'BEGIN { print s / 2 }'))
  out=$(LIVE_SEND_START_MS=$J_START "$SEND" 127.0.0.1 "$J_PORT" /api/v1/write "$TOKEN" "$SERIES" "$SECS" "$CONNS" "${spike[@]}") ||
    echo "live_bench: jiko run $i had errors: $out" >&2
  echo "jiko run $i:       $out"
  J_START=$(echo "$out" | field next_start_ms); echo "$out" | field samples_per_s >> "$W/j.txt"
  [ "$i" = 1 ] && echo "$out" | field spike_ms > "$W/spike.txt"
done
med() { sort -n "$1" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
PM=$(med "$W/p.txt"); JM=$(med "$W/j.txt")
opened=$(curl -s "http://127.0.0.1:$J_PORT/metrics" | awk '/^jiko_live_incidents_total\{change="opened"\}/ { print $2 }')
echo
echo "| $SERIES series, $CONNS connections, bodies of 2,000 samples | samples/s (median of $REPEAT) | x Prometheus |"
echo "|---|---:|---:|"
printf '| Prometheus 2.42 remote-write receiver | %.0f | 1.00 |\n' "$PM"
printf '| jiko serve → live engine | %.0f | %.2f |\n' "$JM" "$(awk -v a="$JM" -v b="$PM" 'BEGIN { print a / b }')"
echo
echo "first anomalous sample → incident committed (the answer to its body): $(cat "$W/spike.txt") ms; incidents opened: $opened"

# ---- $BIG series at once ----
kill "$P_PID" "$J_PID"; wait "$P_PID" "$J_PID" 2>/dev/null || true
start_receivers big
p0=$(rss_mb "$P_PID"); j0=$(rss_mb "$J_PID")
outp=$("$SEND" 127.0.0.1 "$P_PORT" /api/v1/write - "$BIG" "$SECS" "$CONNS") || true
outj=$("$SEND" 127.0.0.1 "$J_PORT" /api/v1/write "$TOKEN" "$BIG" "$SECS" "$CONNS") || true
m=$(curl -s "http://127.0.0.1:$J_PORT/metrics")
series=$(echo "$m" | awk '/^jiko_live_series / { print $2 }')
state=$(echo "$m" | awk '/^jiko_live_state_bytes / { printf "%.1f", $2 / 1048576 }')
echo
echo "| $BIG series, all watched | samples/s | resident MB before → after |"
echo "|---|---:|---:|"
printf '| Prometheus 2.42 | %s | %s → %s |\n' "$(echo "$outp" | field samples_per_s)" "$p0" "$(rss_mb "$P_PID")"
printf '| jiko serve | %s | %s → %s |\n' "$(echo "$outj" | field samples_per_s)" "$j0" "$(rss_mb "$J_PID")"
echo
echo "jiko: $series series held; their state (detectors, names, table): $state MiB"
