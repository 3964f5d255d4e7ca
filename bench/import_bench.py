#!/usr/bin/env python3
"""Registry import benchmark (make bench-import).

Generates N incidents (default 1,000,000) as JSON Lines and the equivalent
rows as CSV (the same records plus the columns jiko derives), then, in the
same run:
  baseline  sqlite3 command-line `.import --csv` into a plain table
  jiko      `jiko import` into a new SQLite registry (validation,
            classification, versioned storage, WAL, synchronous=FULL)
and prints rows/s, the ratio jiko/baseline and each one's peak memory.
With --pg it also imports into a throwaway PostgreSQL cluster.
"""
import argparse, json, os, random, shutil, subprocess, sys, tempfile, time

ap = argparse.ArgumentParser()
ap.add_argument("--n", type=int, default=1_000_000)
ap.add_argument("--jiko", default="build/jiko")
ap.add_argument("--batch", type=int, default=1000)
ap.add_argument("--pg", action="store_true", help="also measure PostgreSQL")
ap.add_argument("--pg-n", type=int, default=200_000)
ap.add_argument("--repeat", type=int, default=3, help="runs of each; the best is reported")
args = ap.parse_args()
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
tmp = tempfile.mkdtemp(prefix="jiko-bench-")

random.seed(1)
svcs = ["ftth", "mobile_data", "email_paid", "ip_phone_050", "mobile_voice", "dsl", "internet_access", "mvno"]
eqs = ["radio_base_station", "subscriber_cable", "switch", "dslam", "application_server", "power"]
jl, csvp = os.path.join(tmp, "in.jsonl"), os.path.join(tmp, "in.csv")
t0 = time.time()
with open(jl, "w") as fj, open(csvp, "w") as fc:
    for i in range(args.n):
        d = 1 + i % 28
        m = 1 + (i // 28) % 12
        users = random.randrange(0, 500) if random.random() < 0.95 else random.randrange(0, 2_000_000)
        rec = {"id": f"b{i}", "operator": f"Operator {i % 200}",
               "started_at": f"2021-{m:02d}-{d:02d}T{i % 24:02d}:{i % 60:02d}:00+09:00",
               "ended_at": f"2021-{m:02d}-{d:02d}T{i % 24:02d}:{i % 60:02d}:{random.randrange(0, 60):02d}+09:00",
               "services": [{"service": svcs[i % 8], "effect": "stop", "users": users}],
               "cause": {"category": "equipment", "detail": "natural failure"},
               "equipment": eqs[i % 6], "region": "関東"}
        line = json.dumps(rec, ensure_ascii=False)
        fj.write(line + "\n")
        q = '"' + line.replace('"', '""') + '"'
        fc.write(f'Operator {i % 200},b{i},1,{1600000000000 + i},{1600000003600 + i},2021,{1 + i % 4},'
                 f'detailed,jp-2019,,telecom,{users},{q},1700000000000,imported from in.jsonl:{i + 1}\n')
print(f"generated {args.n:,} incidents in {time.time() - t0:.1f} s "
      f"({os.path.getsize(jl) / 1e6:.0f} MB JSON Lines, {os.path.getsize(csvp) / 1e6:.0f} MB CSV)")


def run(cmd, stdin=None):
    t = time.time()
    p = subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    el = time.time() - t
    err = p.stderr.read().decode()
    if status != 0:
        sys.exit(f"{cmd[0]} failed: {err}")
    return el, ru.ru_maxrss / 1024, err


base_db = os.path.join(tmp, "base.db")
schema = ("CREATE TABLE t (operator TEXT, id TEXT, version INTEGER, started_ms INTEGER, ended_ms INTEGER,"
          " fiscal_year INTEGER, quarter INTEGER, report TEXT, rulebook TEXT, serious_categories TEXT,"
          " quarterly_clauses TEXT, users INTEGER, record TEXT, changed_ms INTEGER, reason TEXT);")
with open(os.path.join(tmp, "import.sql"), "w") as f:
    f.write(schema + "\n.mode csv\n.import " + csvp + " t\n")
def baseline():
    for p in (base_db, base_db + "-journal"):
        if os.path.exists(p):
            os.remove(p)
    with open(os.path.join(tmp, "import.sql")) as f:
        return run(["sqlite3", base_db], stdin=f)


jdb = os.path.join(tmp, "jiko.db")


def jiko():
    for p in (jdb, jdb + "-wal", jdb + "-shm"):
        if os.path.exists(p):
            os.remove(p)
    return run([args.jiko, "import", "--db", jdb, "--batch", str(args.batch), jl])


runs_b, runs_j = [], []
for _ in range(args.repeat):  # alternate, so both see the same machine
    runs_b.append(baseline())
    runs_j.append(jiko())
tb, mb, _ = min(runs_b, key=lambda r: r[0])
tj, mj, out = min(runs_j, key=lambda r: r[0])
print(f"best of {args.repeat} runs each, alternating")
print(out.strip())
print(f"{'':34} {'rows/s':>10} {'seconds':>8} {'peak MB':>8} {'ratio':>6}")
print(f"{'baseline: sqlite3 .import CSV':34} {args.n / tb:10,.0f} {tb:8.1f} {mb:8.1f} {1.0:6.2f}")
print(f"{'jiko import (SQLite, batch %d)' % args.batch:34} {args.n / tj:10,.0f} {tj:8.1f} {mj:8.1f} {tb / tj:6.2f}")

if args.pg:
    pgdir = os.path.join("/tmp", "jiko-bench-pg")
    subprocess.run(["bash", os.path.join(root, "scripts/pg-cluster.sh"), "stop", pgdir])
    url = subprocess.check_output(["bash", os.path.join(root, "scripts/pg-cluster.sh"), "start", pgdir]).decode().strip()
    try:
        part = os.path.join(tmp, "pg.jsonl")
        rows = 0
        with open(jl) as fi, open(part, "w") as fo:
            for line in fi:
                if rows >= args.pg_n:
                    break
                fo.write(line)
                rows += 1
        tp, mp, out = run([args.jiko, "import", "--db", url, "--batch", str(args.batch), part])
        # the rows actually imported: fewer than --pg-n when --n is smaller
        print(f"{'jiko import (PostgreSQL, %d rows)' % rows:34} {rows / tp:10,.0f} {tp:8.1f} {mp:8.1f}")
    finally:
        subprocess.run(["bash", os.path.join(root, "scripts/pg-cluster.sh"), "stop", pgdir])
shutil.rmtree(tmp)
