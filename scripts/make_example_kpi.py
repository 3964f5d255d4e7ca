#!/usr/bin/env python3
"""make_example_kpi.py — writes examples/pepabo-2021-08-03.lp, a synthetic KPI
recording modelled on the FY2021 serious accident of GMO Pepabo (seed 000's
case sheet; docs/watch.md): on 2021-08-03 from 15:00 JST the mail service's
POP proxies ran out of memory under a surge of connections, and mail could
not be received for 2 h 25 min (456,516 users).

The numbers are invented; only the shape follows the case: three and a half
ordinary days of one-minute samples (a daily rhythm and noise), then from
14:40 a surge of POP connections that doubles and quadruples them, the
proxies' memory climbing to exhaustion by 15:00, logins failing from 15:00
until the recovery at 17:25, and an ordinary evening after.  The anomaly
detector sees the surge twenty minutes before the outage begins.

Deterministic (a fixed seed): running it again gives the same file.
usage: scripts/make_example_kpi.py > examples/pepabo-2021-08-03.lp"""
import math
import random
from datetime import datetime, timedelta, timezone

JST = timezone(timedelta(hours=9))
rng = random.Random(20210803)
start = datetime(2021, 7, 31, 0, 0, tzinfo=JST)
surge = datetime(2021, 8, 3, 14, 40, tzinfo=JST)
outage = datetime(2021, 8, 3, 15, 0, tzinfo=JST)
recovery = datetime(2021, 8, 3, 17, 25, tzinfo=JST)
end = datetime(2021, 8, 3, 20, 0, tzinfo=JST)

print("# Synthetic POP proxy KPIs modelled on the GMO Pepabo accident of 2021-08-03")
print("# (scripts/make_example_kpi.py; jiko replay this file; watches: examples/pepabo.conf)")
t = start
while t <= end:
    hour = t.hour + t.minute / 60
    day = 0.55 + 0.45 * math.sin((hour - 9) / 24 * 2 * math.pi) ** 2  # busy days, quiet nights
    conns = 18000 * day * (1 + rng.gauss(0, 0.03))
    mem = 0.40 + 0.08 * day + rng.gauss(0, 0.006)
    logins = 0.996 + rng.gauss(0, 0.0008)
    if surge <= t < outage:  # the surge: connections multiply, memory fills
        f = (t - surge).total_seconds() / (outage - surge).total_seconds()
        conns *= 1 + 3.5 * f
        mem = mem + (0.995 - mem) * f
    elif outage <= t < recovery:  # proxies out of memory: logins fail, clients retry
        conns *= 3.0 + rng.gauss(0, 0.3)
        mem = 0.99 + rng.gauss(0, 0.002)
        logins = 0.08 + rng.gauss(0, 0.02)
    ts = int(t.timestamp()) * 1000000000  # nanoseconds, line protocol's default
    print("pop_connections,site=pop value=%.0f %d" % (conns, ts))
    print("pop_memory_ratio,site=pop value=%.4f %d" % (min(mem, 1.0), ts))
    print("pop_login_success_ratio,site=pop value=%.4f %d" % (min(max(logins, 0.0), 1.0), ts))
    t += timedelta(minutes=1)
