#!/usr/bin/env bash
# Install the npm packages of package.json into node_modules/, idempotently:
# uPlot (the dashboard's charts, served by `jiko serve` itself: no CDN at run
# time) and playwright-core (tests/web/ drives Debian's chromium with it).
# Fast path: nothing runs when node_modules matches package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v npm >/dev/null 2>&1; then
  echo "web-deps: npm is missing (scripts/deps.sh installs it)" >&2
  exit 1
fi
stamp=node_modules/.jiko-lock
if [ -f "$stamp" ] && cmp -s package-lock.json "$stamp" &&
   [ -f node_modules/uplot/dist/uPlot.iife.min.js ] &&
   [ -f node_modules/playwright-core/package.json ]; then
  exit 0
fi
echo "web-deps: npm ci (uplot, playwright-core)" >&2
npm ci --no-audit --no-fund --loglevel=error >&2
cp package-lock.json "$stamp"
