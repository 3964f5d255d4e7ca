#!/usr/bin/env bash
# Install the Debian packages jiko needs to build and test, idempotently.
# Fast path: when every package is already installed, this runs no apt command
# at all. `apt-get update` runs only when something is missing.
set -euo pipefail

# One package per line, with why it is needed.
PKGS=(
  build-essential   # gcc, make
  cmake             # build system
  ninja-build       # fast generator for cmake (used when present)
  pkg-config        # locating libraries
  clang             # libFuzzer targets (-fsanitize=fuzzer)
  libclang-rt-14-dev # sanitizer and libFuzzer runtimes for clang
  libjansson-dev    # JSON parsing of incidents (incident-format.md)
  libcmocka-dev     # unit tests
  libsqlite3-dev    # embedded registry (store_sqlite.c)
  sqlite3           # the sqlite3 shell: benchmark baseline, inspection
  libpq-dev         # PostgreSQL registry client (store_pg.c)
  libsodium-dev     # API tokens: random generation, SHA-256, constant-time compare
  postgresql        # throwaway PostgreSQL clusters for the registry tests
  libprotobuf-c-dev # Prometheus remote_write decoding (ingest_prom.c)
  protobuf-c-compiler # protoc-c generates the prompb subset at build time
  libsnappy-dev     # remote_write bodies are snappy-compressed
  valgrind          # unit tests under valgrind in `make check`
  python3           # data-driven test helpers
  python3-yaml      # tests/serve/test_openapi.py reads docs/openapi.yaml
  python3-jsonschema # tests/serve/test_openapi.py validates answers against its schemas
  prometheus        # tests/serve/test_prometheus.py: promtool check metrics, and a real scrape of /metrics
  libmicrohttpd-dev # the HTTP server of jiko serve (src/serve/server.c)
  libcurl4-openssl-dev # outgoing webhooks (src/notify/notify_send.c) and jiko replay: HTTP POST
  wrk               # HTTP load generator: bench/serve_bench.sh, tests/serve/test_overload.py
  nginx-light       # the baseline of bench/serve_bench.sh (started there with its own config)
  prometheus-alertmanager # tests/serve/test_live.py: a real Alertmanager sends its webhook to jiko
  nodejs            # npm installs uPlot and playwright-core (scripts/web-deps.sh)
  chromium          # tests/web/: the dashboard tested in a real browser
  fonts-noto-cjk    # Japanese glyphs in the browser tests' screenshots
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

web_deps() {
  # Debian's nodejs ships npm separately; NodeSource's includes it.
  if ! command -v npm >/dev/null 2>&1; then
    $SUDO apt-get install -y -qq --no-install-recommends npm >/dev/null
  fi
  bash "$(dirname "$0")/web-deps.sh"
}

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if [ ${#missing[@]} -eq 0 ]; then
  web_deps
  exit 0
fi

echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
web_deps
