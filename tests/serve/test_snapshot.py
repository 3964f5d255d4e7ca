#!/usr/bin/env python3
"""test_snapshot.py JIKO — reads answered together from one registry snapshot
still see every write answered before them.

The server's workers take the reads waiting in a row at the head of their
queue together and answer them from one SQLite read transaction
(server.c, store_read_begin).  Here wrk keeps the queue deep with GETs
(loopback, bounded in time) while four clients each amend an incident of
their own and read it back at once, many times over: every read must show
exactly the version and figure that the write before it answered.  The
server's /metrics must show that runs of several reads did happen during
the test, so that the check is not passed by reads that were never
grouped."""
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jikoserve import Checks, Server, need_wrk, quote  # noqa: E402

JIKO = os.path.abspath(sys.argv[1])
check = Checks()
OP = "株式会社エー通信"
WRITERS = 4
ROUNDS = 150

LUA = r"""
request = function()
  return wrk.format("GET", path, {["Authorization"] = "Bearer " .. token})
end
"""


def record(iid, users):
    return {"id": iid, "operator": OP, "started_at": "2021-08-03T15:00:00+09:00",
            "ended_at": "2021-08-03T17:25:00+09:00",
            "services": [{"service": "email_paid", "effect": "stop", "users": users}]}


def writer(port, tok, k, out):
    """Amend incident rw-k ROUNDS times, reading it back after each answer."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    h = {"Authorization": "Bearer " + tok, "Content-Type": "application/json"}
    path = "/api/v1/incidents/%s/rw-%d" % (quote(OP), k)
    for i in range(ROUNDS):
        users = 1000 + 10 * i + k
        c.request("POST", "/api/v1/incidents", body=json.dumps(record("rw-%d" % k, users)),
                  headers=h)
        r = c.getresponse()
        posted = json.loads(r.read())
        if r.status not in (200, 201):
            out.append("rw-%d round %d: POST answered %d" % (k, i, r.status))
            continue
        c.request("GET", path, headers={"Authorization": "Bearer " + tok})
        r = c.getresponse()
        body = r.read()
        got = json.loads(body) if r.status == 200 else None
        if (got is None or got["incident"]["version"] != posted["version"]
                or got["incident"]["record"]["services"][0]["users"] != users):
            out.append("rw-%d round %d: wrote version %s with %d users, read %d %s"
                       % (k, i, posted["version"], users, r.status, body[:200]))
        else:
            out.append(None)
    c.close()


def metric(text, name):
    for line in text.splitlines():
        if line.startswith(name + " "):
            return int(float(line.split()[1]))
    return -1


def main():
    wrk = need_wrk(check)
    if not wrk:
        return 1 if check.failed else 0
    srv = Server(JIKO, conf="rate = 0\nmax_inflight = 64\n", threads=2)
    srv.start()
    try:
        adm = srv.token("admin", OP)
        for iid in ["load-1"] + ["rw-%d" % k for k in range(WRITERS)]:
            st, _, _ = srv.request("POST", "/api/v1/incidents",
                                   json.dumps(record(iid, 500), ensure_ascii=False), adm)
            check(st == 201, "stored %s" % iid)
        d = tempfile.mkdtemp()
        lua = os.path.join(d, "load.lua")
        with open(lua, "w") as f:
            f.write('path = "/api/v1/incidents/%s/load-1"\ntoken = "%s"\n' % (quote(OP), adm) + LUA)
        load = subprocess.Popen([wrk, "-t1", "-c48", "-d8s", "--timeout", "5s", "-s", lua,
                                 "http://127.0.0.1:%d/" % srv.port],
                                stdout=subprocess.PIPE, text=True)
        time.sleep(0.5)  # the queue fills
        results = [[] for _ in range(WRITERS)]
        threads = [threading.Thread(target=writer, args=(srv.port, adm, k, results[k]))
                   for k in range(WRITERS)]
        t0 = time.time()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        took = time.time() - t0
        under_load = load.poll() is None
        load.wait()
        out = load.stdout.read()
        shutil.rmtree(d)
        flat = [x for r in results for x in r]
        bad = [x for x in flat if x]
        for x in bad[:5]:
            print("    " + x)
        print("    %d writes read back in %.1f s, wrk: %s" % (
            len(flat), took, " ".join(l.strip() for l in out.splitlines() if "Requests/sec" in l)))
        check(len(flat) == WRITERS * ROUNDS, "every write answered and read back (%d)" % len(flat))
        check(not bad, "every read shows the version and figure its write answered (%d wrong)"
              % len(bad))
        check(under_load, "the writes and reads ran while wrk kept the queue busy")
        st, _, data = srv.request("GET", "/metrics")
        text = data.decode()
        runs = metric(text, "jiko_http_read_runs_total")
        reqs = metric(text, "jiko_http_read_run_requests_total")
        print("    %d runs of reads from one snapshot, %d requests in them" % (runs, reqs))
        check(runs > 0 and reqs >= 2 * runs,
              "reads were answered in runs from one snapshot during the test (%d runs, %d requests)"
              % (runs, reqs))
        # after the load, a lone read is answered as before
        st, _, body = srv.json("GET", "/api/v1/incidents/%s/rw-0" % quote(OP), token=adm)
        check(st == 200 and body["incident"]["version"] == ROUNDS + 1,
              "a lone read after the load sees the last version (%s)"
              % (body["incident"]["version"] if st == 200 else st))
        hits = metric(text, 'jiko_registry_key_hint_reads_total{result="hit"}')
        check(hits > WRITERS * ROUNDS // 2,
              "the reads went through the key hint (%d hits)" % hits)
        # another process writes the registry: an amendment (same key) and a
        # new incident (no hint yet) are both seen at once
        lines = "\n".join(json.dumps(r, ensure_ascii=False)
                           for r in (record("rw-0", 77777), record("fw-new", 4242))) + "\n"
        imp = subprocess.run([JIKO, "import", "--db", srv.db, "-"], input=lines, text=True,
                             capture_output=True)
        check(imp.returncode == 0, "jiko import beside the server (%s)" % imp.stderr.strip())
        st, _, body = srv.json("GET", "/api/v1/incidents/%s/rw-0" % quote(OP), token=adm)
        check(st == 200 and body["incident"]["version"] == ROUNDS + 2
              and body["incident"]["record"]["services"][0]["users"] == 77777,
              "an amendment by another process is read at once (%s)"
              % (body["incident"]["version"] if st == 200 else st))
        for i in range(2):  # the first read finds it through the index, the second by hint
            st, _, body = srv.json("GET", "/api/v1/incidents/%s/fw-new" % quote(OP), token=adm)
            check(st == 200 and body["incident"]["record"]["services"][0]["users"] == 4242,
                  "an incident added by another process is read (%d)" % st)
        st, _, data = srv.request("GET", "/metrics")
        after = data.decode()
        hit2 = metric(after, 'jiko_registry_key_hint_reads_total{result="hit"}')
        stale = metric(after, 'jiko_registry_key_hint_reads_total{result="stale"}')
        check(hit2 >= hits + 3 and stale == 0,
              "the hint served the reads after the import (%d more hits, %d stale)"
              % (hit2 - hits, stale))
    finally:
        check(srv.stop() == 0, "clean exit")
    print("%d checks, %d failure(s)" % (check.n, check.failed))
    return 1 if check.failed else 0


if __name__ == "__main__":
    sys.exit(main())
