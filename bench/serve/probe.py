#!/usr/bin/env python3
"""probe.py — right after an overload run of bench/serve_bench.sh: does the
server answer at once by itself?  One GET of an incident, one /healthz, then
/metrics every 0.2 s until the admitted requests in progress
(jiko_http_inflight_requests) are 0 and the open connections are down to this
probe's own, for at most 15 s.  Prints one line per request with its status
and time.
usage: probe.py URL TOKEN"""
import http.client
import sys
import time
import urllib.parse

url, token = sys.argv[1], sys.argv[2]
host, port = urllib.parse.urlsplit(url).hostname, urllib.parse.urlsplit(url).port


def get(path, auth=False):
    t = time.monotonic()
    c = http.client.HTTPConnection(host, port, timeout=10)
    try:
        c.request("GET", path, headers={"Authorization": "Bearer " + token} if auth else {})
        r = c.getresponse()
        body = r.read()
        return r.status, (time.monotonic() - t) * 1000, body
    except OSError as e:
        return 0, (time.monotonic() - t) * 1000, str(e).encode()
    finally:
        c.close()


def gauge(text, name):
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


t0 = time.monotonic()
st, ms, _ = get("/api/v1/incidents/Operator%20000%20%28synthetic%29/s0000000", auth=True)
print(f"probe incident status={st} ms={ms:.1f}")
st, ms, _ = get("/healthz")
print(f"probe healthz status={st} ms={ms:.1f}")
while True:
    st, ms, body = get("/metrics")
    text = body.decode("utf-8", "replace")
    inflight = gauge(text, "jiko_http_inflight_requests")
    conns = gauge(text, "jiko_http_connections")
    el = time.monotonic() - t0
    print(f"probe metrics at={el:.2f}s status={st} ms={ms:.1f} inflight={inflight} connections={conns}")
    if st == 200 and inflight == 0 and conns is not None and conns <= 1:
        print(f"probe drained after={el:.2f}s")
        break
    if el > 15:
        print("probe not drained after 15 s")
        break
    time.sleep(0.2)
