#!/usr/bin/env bash
# snapshot.sh JIKO OUTDIR — every user-visible output of jiko on the examples
# and on the synthetic FY2021 year, one file per command, for comparing two
# builds byte for byte (a refactor must leave them identical):
#   bash tests/tools/snapshot.sh old/jiko /tmp/a; bash tests/tools/snapshot.sh build/jiko /tmp/b
#   diff -r /tmp/a /tmp/b
# Standard output, standard error and the exit status of each command are kept.
# Needs ../shared/data/nab for the detector's NAB run (left out when absent).
set -uo pipefail
jiko=$(realpath "$1")
out=$2
root=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
now=2021-08-03T16:15:00+09:00
ex=$root/examples/fy2021-serious.jsonl

run() { # NAME CMD... : stdout, stderr (tmp paths masked) and status
    local name=$1; shift
    (cd "$work" && "$@") >"$out/$name.out" 2>"$out/$name.err"
    echo "exit $?" >>"$out/$name.out"
    sed -i "s#$work#WORK#g" "$out/$name.err" "$out/$name.out"
}

for lang in ja en; do
    run classify-$lang "$jiko" classify --lang $lang --explain --now $now "$ex"
    run classify-json-$lang "$jiko" classify --json --lang $lang --now $now "$ex"
    run classify-bad-$lang "$jiko" classify --json --lang $lang --now $now "$root/tests/cases/bad-records.txt"
done
run classify-forced "$jiko" classify --json --rulebook jp-2015 --now $now "$ex"
run rules-list "$jiko" rules list --json
for b in jp-2008 jp-2015 jp-2019; do
    run rules-$b-ja "$jiko" rules show $b --lang ja
    run rules-$b-json "$jiko" rules show $b --json
done

db=$work/fy.db
run synth "$jiko" synth --fy 2021 --out "$work/fy.jsonl"
cp "$work/fy.jsonl" "$out/synth.jsonl"
run import "$jiko" import --db "$db" --now $now "$work/fy.jsonl" "$ex"
run import-again "$jiko" import --db "$db" --now $now "$ex"
run import-bad "$jiko" import --db "$db" --now $now "$root/tests/cases/bad-records.txt"
run export "$jiko" export --db "$db"
run export-q3 "$jiko" export --db "$db" --fy 2021 --quarter 3 --report serious
run list "$jiko" list --db "$db" --fy 2021 --report serious --lang en
run list-json "$jiko" list --db "$db" --fy 2021 --quarter 2 --json
run show "$jiko" show --db "$db" fy2021-07-globalsign --json
for lang in ja en; do
    for f in text md html csv json; do
        run report-$f-$lang "$jiko" report --db "$db" --fy 2021 --format $f --lang $lang
    done
    for t in overview matrix headline services causes equipment serious; do
        run report-table-$t-$lang "$jiko" report --db "$db" --fy 2021 --table $t --format csv --lang $lang
    done
    for id in fy2021-02-pepabo fy2021-06-docomo fy2021-07-globalsign; do
        for f in md html; do
            run case-$id-$f-$lang "$jiko" report --db "$db" incident $id --format $f --lang $lang
        done
    done
    for q in 1 2 3 4; do
        for f in text csv json; do
            run quarter-$q-$f-$lang "$jiko" report --db "$db" quarter --fy 2021 --q $q --format $f --lang $lang
        done
    done
done
run history "$jiko" history --db "$db" fy2021-07-globalsign --json

nab=$root/../shared/data/nab
if [ -d "$nab/labels" ]; then
    run detect-nab "$jiko" detect --nab "$nab" --out "$work/nab"
    (cd "$work/nab" && find . -name '*.csv' | sort | xargs sha256sum) >"$out/detect-nab.sha256"
fi
python3 - "$work/kpi.lp" <<'PY'
import math, random, sys
random.seed(4)
with open(sys.argv[1], "w") as f:
    for i in range(5 * 288):
        t = 1631000000 + i * 300
        q = 50000 + 20000 * math.sin(2 * math.pi * (i % 288) / 288) + random.gauss(0, 1500)
        fail = 0.2 + random.random() * 0.2
        if 1200 <= i < 1250:
            q *= 3.5; fail = 35 + random.random() * 10
        f.write(f"dns,site=tokyo queries={q:.0f}i,failure_pct={fail:.2f} {t}000000000\n")
    f.write("bad line\n")
PY
run detect-influx "$jiko" detect --format influx "$work/kpi.lp"
run detect-events "$jiko" detect --format influx --events "$work/kpi.lp"
awk 'BEGIN{print "timestamp,value"; for(i=0;i<3000;i++) printf "%d,%.3f\n", 1600000000+i*60, 100+10*sin(i/50)+(i==2500?80:0)}' >"$work/one.csv"
run detect-csv "$jiko" detect "$work/one.csv"
awk 'BEGIN{print "timestamp,value"; for(i=0;i<2000;i++) printf "%d,%.1f\n", 1600000000+i*600, 1000+i*0.4+(i%7)}' >"$work/disk.csv"
run forecast "$jiko" forecast --limit 2000 --horizon 3d "$work/disk.csv"
run forecast-json "$jiko" forecast --limit 2000 --horizon 3d --json "$work/disk.csv"
echo "snapshot: $(ls "$out" | wc -l) files in $out"
