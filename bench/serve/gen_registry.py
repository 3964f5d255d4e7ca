#!/usr/bin/env python3
"""gen_registry.py — N valid incidents (docs/incident-format.md) as JSON Lines
for the server benchmark (bench/serve_bench.sh).

Ids are predictable so that a wrk script can ask for a random existing one
without a list: incident i has id "s%07d" % i and operator
"Operator %03d (synthetic)" % (i % 200).  Every 100th incident is ongoing
(ended_at null), the rest closed; services, causes, equipment and users are
mixed like the other benchmarks (bench/import_bench.py).  Fixed seed: the
same N gives the same file.
usage: gen_registry.py N > FILE
"""
import json
import random
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
random.seed(7)
svcs = ["ftth", "internet_access", "mobile_data", "mobile_voice", "analog_phone",
        "ip_phone_050", "email_paid", "dsl", "leased_line", "ip_vpn", "catv_internet",
        "public_wifi"]
eqs = ["subscriber_unit", "switch", "subscriber_cable", "trunk_cable", "application_server",
       "auth_server", "power", "radio_base_station", None]
causes = [("equipment", "natural failure of a card"), ("external", "cable cut by construction"),
          ("human", "configuration error during maintenance"), ("other", "under investigation")]
regions = ["関東", "関西", "東北", "九州", "北海道", "中部", "全国"]
out = sys.stdout
w = out.write
for i in range(n):
    fy = 2021 + i % 3
    m = 1 + (i // 7) % 12
    d = 1 + (i // 3) % 28
    year = fy if m >= 4 else fy + 1
    h, mi = i % 24, (i * 7) % 60
    start = f"{year}-{m:02d}-{d:02d}T{h:02d}:{mi:02d}:00+09:00"
    big = random.random() < 0.002
    dur_min = random.randrange(60, 360) if big else random.randrange(2, 300)
    end_h, end_m = divmod(h * 60 + mi + dur_min, 60)
    if end_h < 24:
        end = f"{year}-{m:02d}-{d:02d}T{end_h:02d}:{end_m:02d}:00+09:00"
    else:
        end = f"{year}-{m:02d}-{d:02d}T23:59:59+09:00"
    users = random.randrange(30000, 2_000_000) if big else random.randrange(1, 3000)
    a, b = random.choice(svcs), random.choice(svcs)
    services = [{"service": a, "effect": "stop", "users": users}]
    if b != a:
        services.append({"service": b, "effect": "degrade", "users": max(1, users // 3)})
    cat, detail = random.choice(causes)
    rec = {"id": "s%07d" % i, "operator": "Operator %03d (synthetic)" % (i % 200),
           "started_at": start, "ended_at": None if i % 100 == 99 else end,
           "services": services, "cause": {"category": cat, "detail": detail},
           "equipment": random.choice(eqs), "region": random.choice(regions),
           "summary": "synthetic incident for the server benchmark"}
    w(json.dumps(rec, ensure_ascii=False, separators=(",", ":")))
    w("\n")
