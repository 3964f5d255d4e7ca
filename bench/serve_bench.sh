#!/usr/bin/env bash
# serve_bench.sh — `jiko serve` against nginx, side by side in one run (make bench).
#
# All on 127.0.0.1, every load bounded in time (wrk -d), in one run:
#   baseline  nginx (Debian), started here with its own temporary config,
#             2 worker processes, serving a static 40-byte JSON file
#   healthz   jiko GET /healthz
#   get       jiko GET /api/v1/incidents/{operator}/{id}: random existing ids
#             of a registry of 1,000,000 incidents, with a bearer token
#   post      jiko POST /api/v1/incidents: one new incident per request
#   threads   GET incident with --threads 2 (epoll thread pool, the default),
#             --threads 4 and --threads 0 (one thread per connection)
#   overload  the default server at 10x the connections, twice in a row (and
#             --threads 0 once; nginx once for reference): the admitted
#             requests' latency, 200s against 503s, resident memory sampled
#             every 0.5 s before, during and after, and its recovery.
# Each load runs at $SB_CONNS connections (wrk -t2 -c64 --latency) for
# $SB_SECONDS s, $SB_REPEAT times, the scenarios interleaved so that all see
# the same machine; the table gives medians and the ratio of requests/s to
# nginx's.  Method and figures: docs/serve-performance.md.
#
# The registry is made once (bench/serve/gen_registry.py | jiko import) and
# cached as $BUILD/serve-bench-1m.db; each run works on a copy.
#
# usage: bench/serve_bench.sh [BUILD_DIR]
# env:   SB_SECONDS=10 SB_REPEAT=3 SB_CONNS=64 SB_OVERLOAD_CONNS=640
#        SB_OVERLOAD_SECONDS=15 SB_N=1000000 SB_ONLY="nginx healthz get post
#        threads overload" SB_KEEP=1 (keep the work directory)
#        SB_JIKO=PATH (another build of jiko to measure, e.g. with a fix)
#        SB_SERVE_CONF="key = value..." (more [serve] settings for every server)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
JIKO=${SB_JIKO:-$BUILD/jiko}
SECONDS_EACH=${SB_SECONDS:-10}
REPEAT=${SB_REPEAT:-3}
CONNS=${SB_CONNS:-64}
OCONNS=${SB_OVERLOAD_CONNS:-$((CONNS * 10))}
OSECONDS=${SB_OVERLOAD_SECONDS:-15}
N=${SB_N:-1000000}
ONLY=${SB_ONLY:-nginx healthz get post threads overload}
HERE=$ROOT/bench/serve

die() { echo "serve_bench: $*" >&2; exit 1; }
want() { [[ " $ONLY " == *" $1 "* ]]; }
for t in wrk nginx python3; do
  command -v "$t" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin command -v "$t" >/dev/null 2>&1 ||
    die "$t is missing (scripts/deps.sh installs it)"
done
NGINX=$(PATH=$PATH:/usr/sbin command -v nginx)
[ -x "$JIKO" ] || die "no $JIKO: build first (make build)"

W=$(mktemp -d "$BUILD/serve-bench.XXXXXX")
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "${SB_KEEP:-0}" = 1 ]; then echo "serve_bench: kept $W" >&2; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---- the machine, as this run found it ----
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "cpu: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
  echo "memory: $(free -m | awk '/Mem:/ {print $2}') MiB; kernel $(uname -r)"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "nginx: $("$NGINX" -v 2>&1 | sed 's/.*version: //'); wrk: $(wrk -v 2>&1 | head -1 | awk '{print $2}');" \
       "libmicrohttpd: $(pkg-config --modversion libmicrohttpd 2>/dev/null || echo '?')"
} | tee "$W/machine.txt"

# ---- the registry: made once, cached, copied for each run ----
CACHE=$BUILD/serve-bench-1m.db
[ "$N" = 1000000 ] || CACHE=$BUILD/serve-bench-$N.db
STAMP="n=$N gen=$(cksum < "$HERE/gen_registry.py" | cut -d' ' -f1)"
if [ ! -f "$CACHE" ] || [ "$(cat "$CACHE.stamp" 2>/dev/null)" != "$STAMP" ]; then
  echo "registry: making $N incidents (bench/serve/gen_registry.py | jiko import) ..."
  rm -f "$CACHE" "$CACHE".tmp*
  t0=$(date +%s.%N)
  python3 "$HERE/gen_registry.py" "$N" | "$JIKO" import --db "$CACHE.tmp" --batch 10000 - 2>"$W/import.log" ||
    { cat "$W/import.log" >&2; die "jiko import failed"; }
  mv "$CACHE.tmp" "$CACHE"
  t1=$(date +%s.%N)
  printf '%s\n' "$STAMP" > "$CACHE.stamp"
  printf 'made in %s s on %s (%s)\n' "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", b - a }')" \
    "$(date -u +%F)" "$(tail -1 "$W/import.log")" > "$CACHE.made"
fi
echo "registry: $CACHE ($(du -m "$CACHE" | cut -f1) MB), $(cat "$CACHE.made" 2>/dev/null)"
t0=$(date +%s.%N)
cp --reflink=auto "$CACHE" "$W/registry.db"
echo "registry: copied for this run in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
DB=$W/registry.db

# Tokens: a regulator's, which reads every operator's incidents, for GET;
# an admin's of the operator the POSTs store for.
POST_OP="Bench Post (synthetic)"
READ_TOKEN=$("$JIKO" token create --db "$DB" --role regulator --note serve-bench 2>>"$W/token.log") ||
  die "jiko token create failed: $(cat "$W/token.log")"
WRITE_TOKEN=$("$JIKO" token create --db "$DB" --role admin --operator "$POST_OP" --note serve-bench \
  2>>"$W/token.log") || die "jiko token create failed: $(cat "$W/token.log")"

# ---- the servers ----
NGX=$W/nginx
mkdir -p "$NGX/www" "$NGX/logs"
printf '{"status":"ok","server":"nginx-bench-1"}' > "$NGX/www/status.json" # 40 bytes
NGX_PORT=$(free_port)
cat > "$NGX/nginx.conf" <<EOF
# nginx.conf for the baseline of bench/serve_bench.sh: a static 40-byte JSON
# file, 2 workers, no access log; keep-alive unbounded like jiko's
$([ "$(id -u)" = 0 ] && echo "user root root;")
worker_processes 2;
error_log $NGX/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  default_type application/json;
  client_body_temp_path $NGX/tmp_body;
  proxy_temp_path $NGX/tmp_proxy;
  fastcgi_temp_path $NGX/tmp_fastcgi;
  uwsgi_temp_path $NGX/tmp_uwsgi;
  scgi_temp_path $NGX/tmp_scgi;
  server {
    listen 127.0.0.1:$NGX_PORT;
    root $NGX/www;
    location = /status.json { }
  }
}
EOF
"$NGINX" -p "$NGX" -e "$NGX/logs/error.log" -c "$NGX/nginx.conf" \
  -g "daemon off; pid $NGX/nginx.pid;" >"$NGX/logs/out" 2>&1 &
PIDS+=($!)
NGX_URL=http://127.0.0.1:$NGX_PORT

# jiko serve with [serve] threads = $1 and the benchmark's settings:
# rate = 0 (no per-token limit: one token drives all the load).
start_jiko() { # NAME THREADS -> sets URL_<NAME>, PID_<NAME>
  local name=$1 threads=$2
  cat > "$W/serve-$name.conf" <<EOF
[serve]
listen = 127.0.0.1:0
threads = $threads
rate = 0
${SB_SERVE_CONF:-}
EOF
  "$JIKO" serve --db "$DB" --config "$W/serve-$name.conf" --ready-file "$W/ready-$name" \
    >"$W/serve-$name.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  local i
  for i in $(seq 300); do
    [ -f "$W/ready-$name" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$W/serve-$name.log" >&2; die "jiko serve ($name) exited"; }
    sleep 0.1
  done
  [ -f "$W/ready-$name" ] || die "jiko serve ($name) did not start"
  printf -v "URL_$name" '%s' "$(cat "$W/ready-$name")"
  printf -v "PID_$name" '%s' "$pid"
}
start_jiko t2 2
if want threads; then
  start_jiko t4 4
  start_jiko t0 0
fi
for i in $(seq 100); do
  python3 - "$NGX_URL/status.json" <<'EOF' 2>/dev/null && break
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=1).read()
EOF
  sleep 0.1
  [ "$i" = 100 ] && { cat "$NGX/logs/out" "$NGX/logs/error.log" >&2; die "nginx did not start"; }
done

# ---- the loads ----
# cpu_ticks PID...: user + system CPU of these processes (all their threads)
# in clock ticks; for nginx, the master and its workers
cpu_ticks() {
  local t=0 p f
  for p in "$@"; do
    f=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null) || continue
    set -- $f
    t=$((t + ${12} + ${13}))
  done
  echo "$t"
}
server_pids() { # nginx | t2 | t4 | t0
  if [ "$1" = nginx ]; then
    local m
    m=$(cat "$NGX/nginx.pid")
    echo "$m $(pgrep -P "$m" | tr '\n' ' ')"
  else
    local v=PID_$1
    echo "${!v}"
  fi
}
# run NAME SERVER [wrk options, URL, script args...]: one bounded wrk run,
# its output kept as $W/runs/NAME.txt with the server's CPU time appended
mkdir -p "$W/runs"
TICK=$(getconf CLK_TCK)
run() {
  local name=$1 pids c0 c1
  pids=$(server_pids "$2")
  shift 2
  c0=$(cpu_ticks $pids)
  wrk -t2 -c"$CONNS" -d"${SECONDS_EACH}s" --timeout 5s --latency "$@" > "$W/runs/$name.txt" 2>&1 ||
    echo "serve_bench: wrk failed for $name" >&2
  c1=$(cpu_ticks $pids)
  echo "server cpu seconds: $(awk -v a="$c0" -v b="$c1" -v t="$TICK" 'BEGIN { print (b - a) / t }')" \
    >> "$W/runs/$name.txt"
  printf '  %-16s %s\n' "$name" "$(grep -E 'Requests/sec' "$W/runs/$name.txt" | tr -s ' ')"
  sleep 1
}
GET_ARGS=(-s "$HERE/get_incident.lua")
POST_ARGS=(-s "$HERE/post_incident.lua")
echo "loads: $REPEAT rounds, each scenario ${SECONDS_EACH} s at $CONNS connections, interleaved"
for r in $(seq "$REPEAT"); do
  echo "round $r (load average $(cut -d' ' -f1 /proc/loadavg))"
  if want nginx; then run "nginx.$r" nginx "$NGX_URL/status.json"; fi
  if want healthz; then run "healthz.$r" t2 "$URL_t2/healthz"; fi
  if want get; then run "get.$r" t2 "${GET_ARGS[@]}" "$URL_t2" -- "$READ_TOKEN" "$N"; fi
  if want threads; then
    run "get-t4.$r" t4 "${GET_ARGS[@]}" "$URL_t4" -- "$READ_TOKEN" "$N"
    run "get-t0.$r" t0 "${GET_ARGS[@]}" "$URL_t0" -- "$READ_TOKEN" "$N"
  fi
  if want post; then
    run "post.$r" t2 "${POST_ARGS[@]}" "$URL_t2/" -- "$WRITE_TOKEN" "$$-$r-$RANDOM" "$POST_OP"
  fi
done

# ---- overload: 10x the connections on the default server ----
# sample_rss PID FILE: VmRSS (kB) every 0.5 s, with the time, until killed
sample_rss() {
  while kill -0 "$1" 2>/dev/null; do
    echo "$(date +%s.%N) $(awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null)" >> "$2"
    sleep 0.5
  done
}
# probe URL TOKEN: what a client sees right after the load stops
probe() {
  python3 "$HERE/probe.py" "$@"
}
overload() { # NAME URL PID
  local name=$1 url=$2 pid=$3
  echo "overload: $name at $OCONNS connections for $OSECONDS s (RSS sampled every 0.5 s)"
  sample_rss "$pid" "$W/runs/rss-$name.txt" &
  local sampler=$!
  PIDS+=("$sampler")
  sleep 3
  echo "$(date +%s.%N) start" > "$W/runs/marks-$name.txt"
  wrk -t2 -c"$OCONNS" -d"${OSECONDS}s" --timeout 5s --latency "${GET_ARGS[@]}" "$url" -- \
    "$READ_TOKEN" "$N" track > "$W/runs/$name.txt" 2>&1 || echo "serve_bench: wrk failed for $name" >&2
  echo "$(date +%s.%N) stop" >> "$W/runs/marks-$name.txt"
  probe "$url" "$READ_TOKEN" > "$W/runs/probe-$name.txt" 2>&1 || true
  sleep 5
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  printf '  %-16s %s\n' "$name" "$(grep -E '^track:' "$W/runs/$name.txt")"
}
if want overload; then
  # nginx at the same connections: what this machine gives a server whose
  # every answer is cheap
  if want nginx; then
    echo "overload: nginx at $OCONNS connections for $OSECONDS s (reference)"
    wrk -t2 -c"$OCONNS" -d"${OSECONDS}s" --timeout 5s --latency "$NGX_URL/status.json" \
      > "$W/runs/overload-nginx.txt" 2>&1 || echo "serve_bench: wrk failed for overload-nginx" >&2
  fi
  overload overload-t2 "$URL_t2" "$PID_t2"
  # again: memory that grew in the first round (buffers of 10x the
  # connections, registry page cache) must not grow again
  overload overload-t2-again "$URL_t2" "$PID_t2"
  if want threads; then overload overload-t0 "$URL_t0" "$PID_t0"; fi
fi
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$W/machine.txt"

python3 "$HERE/report.py" "$W" "$CONNS" "$OCONNS"
