#!/usr/bin/env python3
"""test_overload.py JIKO — the server under more load than it may take, on
loopback and bounded in time: wrk drives 256 connections at a server whose
admission limit is small; it must refuse the excess with 503 at once
(never another status, never a hang), keep its resident memory flat,
refuse connections beyond max_connections without falling over, and serve
normally as soon as the load stops."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jikoserve import Checks, Server, need_wrk, quote  # noqa: E402

JIKO = os.path.abspath(sys.argv[1])
check = Checks()


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


LUA = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) ok = 0; busy = 0; other = 0 end
request = function()
  return wrk.format("GET", path, {["Authorization"] = "Bearer " .. token})
end
function response(status, headers, body)
  if status == 200 then ok = ok + 1 elseif status == 503 then busy = busy + 1 else other = other + 1 end
end
function done(summary, latency, requests)
  local o, b, x = 0, 0, 0
  for _, t in ipairs(threads) do o = o + t:get("ok"); b = b + t:get("busy"); x = x + t:get("other") end
  io.write(string.format("STATUS %d %d %d %d\n", o, b, x, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
  io.write(string.format("LATENCY %d %d\n", latency:percentile(50), latency:percentile(99)))
end
"""


def main():
    wrk = need_wrk(check)
    if not wrk:
        return 1 if check.failed else 0
    srv = Server(JIKO, conf="rate = 0\nmax_inflight = 1\nmax_connections = 300\n"
                            "connection_timeout_s = 5\n", threads=2)
    srv.start()
    try:
        op = "株式会社エー通信"
        adm = srv.token("admin", op)
        rec = {"id": "o-1", "operator": op, "started_at": "2021-08-03T15:00:00+09:00",
               "ended_at": "2021-08-03T17:25:00+09:00",
               "services": [{"service": "email_paid", "effect": "stop", "users": 456516}]}
        st, _, _ = srv.request("POST", "/api/v1/incidents", json.dumps(rec), adm)
        check(st == 201, "stored the incident to read")
        path = "/api/v1/incidents/%s/o-1" % quote(op)
        before = rss_kb(srv.proc.pid)
        d = tempfile.mkdtemp()
        lua = os.path.join(d, "load.lua")
        with open(lua, "w") as f:
            f.write('path = "%s"\ntoken = "%s"\n' % (path, adm) + LUA)
        peak = before
        p = subprocess.Popen([wrk, "-t2", "-c256", "-d5s", "--timeout", "5s", "-s", lua,
                              "http://127.0.0.1:%d/" % srv.port], stdout=subprocess.PIPE, text=True)
        while p.poll() is None:
            peak = max(peak, rss_kb(srv.proc.pid))
            time.sleep(0.25)
        out = p.stdout.read()
        shutil.rmtree(d)
        status = [l.split() for l in out.splitlines() if l.startswith("STATUS")]
        lat = [l.split() for l in out.splitlines() if l.startswith("LATENCY")]
        ok, busy, other, errors = (int(x) for x in status[0][1:]) if status else (0, 0, -1, -1)
        print("    wrk: %d answered 200, %d refused 503, %d other, %d socket errors; latency p50 %s us, p99 %s us"
              % (ok, busy, other, errors, lat[0][1] if lat else "?", lat[0][2] if lat else "?"))
        check(ok > 0 and busy > 0 and other == 0,
              "256 connections on max_inflight 1: answered 200 or refused 503, nothing else")
        t0 = time.time()
        st, _, _ = srv.request("GET", path, token=adm)
        check(st == 200 and time.time() - t0 < 2, "recovers at once when the load stops (%.3f s)" % (time.time() - t0))
        time.sleep(0.3)
        st, _, data = srv.request("GET", "/metrics")
        text = data.decode()
        check("jiko_http_inflight_requests 0" in text, "nothing left in progress")
        refused = [l for l in text.splitlines() if l.startswith('jiko_http_refused_total{reason="overload_queue"}')]
        check(refused and int(refused[0].split()[-1]) >= busy,
              "every 503 counted as an overload refusal in /metrics (%s)" % (refused[0] if refused else "none"))
        after = rss_kb(srv.proc.pid)
        print("    resident memory: %d KiB before, %d KiB peak, %d KiB after" % (before, peak, after))
        check(peak < before + 64 * 1024, "resident memory stays flat under the load (peak < before + 64 MiB)")
        # connections beyond max_connections are refused; the server stays up
        socks = []
        for _ in range(320):
            try:
                socks.append(socket.create_connection(("127.0.0.1", srv.port), timeout=2))
            except OSError:
                break
        time.sleep(0.5)
        dropped = 0
        for s in socks:
            s.settimeout(0.05)
            try:
                dropped += s.recv(1) == b""
            except socket.timeout:
                pass
            except OSError:
                dropped += 1
        for s in socks:
            s.close()
        check(dropped >= len(socks) - 300, "%d connections opened, %d beyond the limit dropped" % (len(socks), dropped))
        time.sleep(0.5)
        st, _, _ = srv.request("GET", "/healthz")
        check(st == 200, "serving after the connection flood")
    finally:
        check(srv.stop() == 0, "clean exit")
    return 1 if check.failed else 0


if __name__ == "__main__":
    sys.exit(main())
