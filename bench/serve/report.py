#!/usr/bin/env python3
"""report.py — the table of bench/serve_bench.sh from its wrk outputs.
usage: report.py WORKDIR CONNS OVERLOAD_CONNS"""
import os
import re
import statistics
import sys

w, conns, oconns = sys.argv[1], sys.argv[2], sys.argv[3]
runs = os.path.join(w, "runs")
UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def ms(text):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    return float(m.group(1)) * UNIT[m.group(2)] if m else None


def parse(path):
    r = {"rps": None, "p50": None, "p99": None, "non2xx": 0, "errors": 0, "requests": 0,
         "cpu_us": None}
    for line in open(path, errors="replace"):
        s = line.strip()
        if s.startswith("Requests/sec:"):
            r["rps"] = float(s.split()[1])
        elif re.match(r"^(50|99)%\s", s):
            k, v = s.split()
            r["p" + k[:-1]] = ms(v)
        elif s.startswith("Non-2xx or 3xx responses:"):
            r["non2xx"] = int(s.split(":")[1])
        elif s.startswith("Socket errors:"):
            r["errors"] = sum(int(x) for x in re.findall(r"\d+", s))
        elif re.match(r"^\d+ requests in", s):
            r["requests"] = int(s.split()[0])
        elif s.startswith("track:"):
            r["track"] = s[len("track:"):].strip()
        elif s.startswith("server cpu seconds:"):
            r["cpu_s"] = float(s.split(":")[1])
    if r.get("cpu_s") is not None and r["requests"]:
        r["cpu_us"] = r["cpu_s"] / r["requests"] * 1e6
    return r


def scenario(name):
    rs = []
    k = 1
    while os.path.exists(os.path.join(runs, f"{name}.{k}.txt")):
        rs.append(parse(os.path.join(runs, f"{name}.{k}.txt")))
        k += 1
    return [r for r in rs if r["rps"] is not None]


def med(rs, key):
    v = [r[key] for r in rs if r[key] is not None]
    return statistics.median(v) if v else None


def fmt(v, f="{:.2f}"):
    return "-" if v is None else f.format(v)


rows = [("nginx", "nginx static 40 B (baseline)"), ("healthz", "jiko GET /healthz"),
        ("get", "jiko GET incident (1M registry)"), ("post", "jiko POST incident"),
        ("get-t4", "jiko GET incident, --threads 4"),
        ("get-t0", "jiko GET incident, --threads 0")]
base = med(scenario("nginx"), "rps")
n = max((len(scenario(k)) for k, _ in rows), default=0)
print()
print(f"## At {conns} connections (wrk -t2 -c{conns}): medians of {n} runs, interleaved")
print(f"| {'scenario':34} | {'req/s':>9} | {'(min-max)':>15} | {'p50 ms':>7} | {'p99 ms':>7} | "
      f"{'non-2xx':>7} | {'sock err':>8} | {'CPU us/req':>10} | {'x nginx':>7} |")
print(f"|{'-' * 36}|{'-' * 11}|{'-' * 17}|{'-' * 9}|{'-' * 9}|{'-' * 9}|{'-' * 10}|{'-' * 12}|"
      f"{'-' * 9}|")
for key, label in rows:
    rs = scenario(key)
    if not rs:
        continue
    rps = med(rs, "rps")
    lo, hi = min(r["rps"] for r in rs), max(r["rps"] for r in rs)
    ratio = rps / base if base and rps else None
    print(f"| {label:34} | {rps:9.0f} | {f'{lo:.0f}-{hi:.0f}':>15} | {fmt(med(rs, 'p50')):>7} | "
          f"{fmt(med(rs, 'p99')):>7} | {sum(r['non2xx'] for r in rs):7d} | "
          f"{sum(r['errors'] for r in rs):8d} | {fmt(med(rs, 'cpu_us'), '{:.0f}'):>10} | "
          f"{fmt(ratio):>7} |")

get = scenario("get")
if get and base:
    rps, p99 = med(get, "rps"), med(get, "p99")
    ok = rps >= 0.5 * base and p99 is not None and p99 <= 5
    print(f"\ngoal (GET incident >= 0.5x nginx req/s, p99 <= 5 ms at {conns} connections): "
          f"{rps / base:.2f}x, p99 {p99:.2f} ms: {'met' if ok else 'NOT met'}")


def rss_report(name):
    path = os.path.join(runs, f"rss-{name}.txt")
    marks = os.path.join(runs, f"marks-{name}.txt")
    if not os.path.exists(path) or not os.path.exists(marks):
        return None
    m = {}
    for line in open(marks):
        t, what = line.split()
        m[what] = float(t)
    before, during, after = [], [], []
    for line in open(path):
        p = line.split()
        if len(p) != 2:
            continue
        t, kb = float(p[0]), int(p[1]) / 1024
        (before if t < m["start"] else during if t <= m.get("stop", 1e18) else after).append(kb)
    f = lambda xs: f"{min(xs):.0f}-{max(xs):.0f}" if xs else "-"
    growth = max(during + after) - max(before) if before and (during or after) else None
    return (f"RSS MB before {f(before)} ({len(before)} samples), during {f(during)} "
            f"({len(during)}), after {f(after)} ({len(after)})"), growth, max(before or [0])


path = os.path.join(runs, "overload-nginx.txt")
if os.path.exists(path):
    r = parse(path)
    print(f"\n## Overload reference: nginx at {oconns} connections")
    print(f"wrk overall: {fmt(r['rps'], '{:.0f}')} req/s, p50 {fmt(r['p50'])} ms, "
          f"p99 {fmt(r['p99'])} ms, {r['requests']} requests, {r['non2xx']} non-2xx, "
          f"{r['errors']} socket errors")
for name in ("overload-t2", "overload-t2-again", "overload-t0"):
    path = os.path.join(runs, f"{name}.txt")
    if not os.path.exists(path):
        continue
    r = parse(path)
    label = {"overload-t2": "--threads 2 (default)",
             "overload-t2-again": "--threads 2 (default), second round",
             "overload-t0": "--threads 0"}[name]
    print(f"\n## Overload, {label}: GET incident at {oconns} connections")
    print(f"wrk overall: {fmt(r['rps'], '{:.0f}')} req/s, p50 {fmt(r['p50'])} ms, "
          f"p99 {fmt(r['p99'])} ms, {r['requests']} requests, {r['non2xx']} non-2xx, "
          f"{r['errors']} socket errors")
    print("admitted (200s only): " + r.get("track", "(no track line)"))
    rr = rss_report(name)
    if rr:
        print(rr[0])
    probe = os.path.join(runs, f"probe-{name}.txt")
    recovered = False
    if os.path.exists(probe):
        lines = open(probe).read().splitlines()
        for line in lines[:3] + lines[-2:] if len(lines) > 5 else lines:
            print("  " + line)
        first = re.search(r"status=(\d+) ms=([\d.]+)", lines[0]) if lines else None
        recovered = (bool(first) and first.group(1) == "200" and float(first.group(2)) < 100
                     and any(line.startswith("probe drained") for line in lines))
    m = re.search(r"p99=([\d.]+)", r.get("track", ""))
    p99 = float(m.group(1)) if m else None
    growth, base_mb = (rr[1], rr[2]) if rr else (None, 0)
    flat = growth is not None and growth <= 0.1 * base_mb
    print(f"goal (admitted p99 <= 50 ms, memory flat, recovers by itself): admitted p99 "
          f"{fmt(p99)} ms: {'met' if p99 is not None and p99 <= 50 else 'NOT met'}; RSS "
          f"{'+' if (growth or 0) >= 0 else ''}{fmt(growth, '{:.0f}')} MB over before: "
          f"{'flat' if flat else 'NOT flat (> 10%)'}; recovery: "
          f"{'yes' if recovered else 'NO'}")
print()
print(open(os.path.join(w, "machine.txt")).read().strip())
