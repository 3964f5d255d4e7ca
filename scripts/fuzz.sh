#!/usr/bin/env bash
# Run each libFuzzer target for SECONDS (default 60), seeded from the
# project's own data: rulebooks, catalogs, example incidents and the
# malformed-record cases.  Crashes are saved in fuzz/artifacts/.
# usage: scripts/fuzz.sh BUILD_DIR [SECONDS]
set -euo pipefail
build=${1:-build-fuzz}
secs=${2:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
work="$build/fuzz-work"
mkdir -p "$work/incident" "$work/rules" "$root/fuzz/artifacts"

# Seed corpora (regenerated each run; libFuzzer adds what it finds).
i=0
while IFS= read -r line; do
  i=$((i + 1)); printf '%s' "$line" >"$work/incident/seed-example-$i"
done <"$root/examples/fy2021-serious.jsonl"
grep -h '^{' "$root"/tests/cases/bad-records.txt | head -100 | while IFS= read -r line; do
  i=$((i + 1)); printf '%s' "$line" >"$work/incident/seed-bad-$i"
done
for f in "$root"/rules/*.rules "$root"/tests/cases/*.rules "$root"/catalogs/*.conf; do
  cp "$f" "$work/rules/seed-$(basename "$f")"
done

status=0
for t in incident rules; do
  echo "fuzz_$t: ${secs}s"
  if ! "$build/fuzz_$t" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$root/fuzz/artifacts/$t-" -print_final_stats=1 \
        "$work/$t" 2>"$work/$t.log"; then
    echo "fuzz_$t FAILED; see $work/$t.log and fuzz/artifacts/" >&2
    tail -40 "$work/$t.log" >&2
    status=1
  else
    grep -E 'stat::number_of_executed_units|stat::new_units_added' "$work/$t.log" | sed 's/^/  /'
  fi
done
exit $status
