#!/usr/bin/env python3
"""test_prometheus.py JIKO — /metrics as the real Prometheus reads it.

`jiko serve` is started and given a known mix of requests, good and bad
(200, 201, 400, 401, 403, 404, 405, 413, 415, 429), each tallied here by
route and status.  Then:

  - `promtool check metrics` must accept the /metrics text (its lint
    warnings are printed), and the text is checked here too: every series
    once, after its family's HELP and TYPE; each histogram's buckets
    cumulative, in increasing le, ending at +Inf equal to _count;
  - Prometheus (Debian's /usr/bin/prometheus) is started with a temporary
    config (scrape every 1 s, one job "jiko" on the server's loopback port,
    its TSDB in a temporary directory, its API on a free loopback port), and
    within 30 s its HTTP API must show up{job="jiko"} == 1 with no scrape
    error, the families' types as declared, and the values caused here:
    jiko_http_requests_total by route and status exactly as tallied,
    jiko_http_request_duration_seconds (count per route as tallied, buckets
    monotonic, +Inf = count, a finite histogram_quantile),
    jiko_http_refused_total by reason, jiko_http_inflight_requests 0,
    jiko_resident_memory_bytes near the process's VmRSS, jiko_open_incidents
    and jiko_api_tokens as stored.

Prometheus and jiko are stopped at the end.  Without prometheus or promtool
the test is skipped, except under CI=true, where that is a failure."""
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jikoserve import Checks, Server, free_port, quote, which  # noqa: E402

JIKO = os.path.abspath(sys.argv[1])
CI = os.environ.get("CI") == "true"
WAIT_S = 30
check = Checks()


A = "株式会社エー通信"


def record(rid, ended):
    return {"id": rid, "operator": A, "started_at": "2021-08-03T15:00:00+09:00",
            "ended_at": ended, "services": [{"service": "email_paid", "effect": "stop",
                                             "users": 456516}],
            "equipment": "application_server"}


# ---- the requests, tallied ----

class Tally:
    def __init__(self, srv):
        self.srv = srv
        self.by = Counter()   # (route label, status) -> n

    def req(self, route, method, path, body=None, token=None, want=None, **kw):
        try:
            st, h, data = self.srv.request(method, path, body, token, **kw)
        except (OSError, ConnectionError) as e:
            check(False, "%s %s: %s" % (method, path, e))
            return None, None
        self.by[(route, str(st))] += 1
        if want is not None:
            check(st == want, "%s %s -> %d (got %d)" % (method, path[:60], want, st))
        return st, h


def make_requests(srv, tok):
    t = Tally(srv)
    adm, view, reg, rate = tok["admin"], tok["viewer"], tok["regulator"], tok["rate"]
    inc, one = "/api/v1/incidents", "/api/v1/incidents/{operator}/{id}"
    for _ in range(2):
        t.req("/healthz", "GET", "/healthz", want=200)
    for rid, ended in (("p-1", None), ("p-2", None), ("p-3", "2021-08-03T17:25:00+09:00")):
        t.req(inc, "POST", inc, json.dumps(record(rid, ended)), adm, want=201)
    t.req(inc, "POST", inc, json.dumps(record("p-3", "2021-08-03T17:25:00+09:00")), adm, want=200)
    t.req(inc, "GET", inc, token=view, want=200)
    t.req(one, "GET", "/api/v1/incidents/%s/p-1" % quote(A), token=view, want=200)
    t.req(one, "GET", "/api/v1/incidents/%s/nope" % quote(A), token=view, want=404)
    t.req(inc, "GET", inc + "?fy=x", token=view, want=400)
    for _ in range(3):
        t.req("/api/v1/rules", "GET", "/api/v1/rules", token=reg, want=200)
    # 401: no token, unknown tokens
    for _ in range(3):
        t.req("/api/v1/rules", "GET", "/api/v1/rules", want=401)
    for _ in range(2):
        t.req("/api/v1/rules", "GET", "/api/v1/rules", token=adm + "x", want=401)
    for _ in range(2):
        t.req(inc, "POST", inc, json.dumps(record("p-9", None)), "jiko_not_a_token", want=401)
    # 403 by role: a viewer may not store
    for _ in range(2):
        t.req(inc, "POST", inc, json.dumps(record("p-9", None)), view, want=403)
    t.req("other", "GET", "/api/v1/nothing", token=reg, want=404)
    t.req("/api/v1/rules", "DELETE", "/api/v1/rules", token=reg, want=405)
    t.req("/api/v1/classify", "POST", "/api/v1/classify", "x" * 70000, adm, want=413)
    t.req("/api/v1/classify", "POST", "/api/v1/classify", json.dumps(record("p-9", None)), adm,
          ctype="text/plain", want=415)
    # 429: one token past its burst
    got = Counter()
    for _ in range(30):
        st, _ = t.req("/api/v1/rules", "GET", "/api/v1/rules", token=rate)
        got[st] += 1
    check(got[429] >= 5 and got[200] >= 20,
          "a token past its burst of 20: %d x 200, %d x 429" % (got[200], got[429]))
    refused = {"unauthorized": 7, "forbidden": 2, "body_too_large": 1, "rate_limit": got[429],
               "overload_queue": 0, "overload_memory": 0}
    return t.by, refused


# ---- the exposition text ----

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[^"}]|"(?:[^"\\]|\\.)*")*\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_text(text):
    """[(name, {labels}, value)], and the problems found."""
    problems, samples, declared, seen = [], [], {}, set()
    for n, line in enumerate(text.split("\n"), 1):
        if not line:
            continue
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            parts = line.split(" ", 3)
            if line.startswith("# TYPE "):
                declared[parts[2]] = parts[3]
            continue
        if line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            problems.append("line %d: not a sample: %r" % (n, line))
            continue
        name, labels, value = m.group(1), dict(LABEL.findall(m.group(2) or "")), m.group(3)
        family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in declared else name
        if family not in declared:
            problems.append("line %d: %s before its TYPE" % (n, name))
        key = (name, tuple(sorted(labels.items())))
        if key in seen:
            problems.append("line %d: series twice: %s" % (n, line))
        seen.add(key)
        try:
            samples.append((name, labels, float(value)))
        except ValueError:
            problems.append("line %d: value %r" % (n, value))
    # histograms
    for fam, typ in declared.items():
        if typ != "histogram":
            continue
        routes = {tuple(sorted((k, v) for k, v in lb.items() if k != "le"))
                  for nm, lb, _ in samples if nm == fam + "_bucket"}
        for r in routes:
            bs = sorted(((float(lb["le"]), v) for nm, lb, v in samples if nm == fam + "_bucket"
                         and tuple(sorted((k, x) for k, x in lb.items() if k != "le")) == r))
            cnt = [v for nm, lb, v in samples if nm == fam + "_count"
                   and tuple(sorted(lb.items())) == r]
            if not bs or bs[-1][0] != math.inf:
                problems.append("%s%s: no +Inf bucket" % (fam, dict(r)))
            if any(bs[i][1] > bs[i + 1][1] for i in range(len(bs) - 1)):
                problems.append("%s%s: buckets not cumulative" % (fam, dict(r)))
            if not cnt or bs[-1][1] != cnt[0]:
                problems.append("%s%s: +Inf %s != _count %s" % (fam, dict(r), bs[-1][1], cnt))
    return samples, declared, problems


# ---- Prometheus ----

class Prom:
    def __init__(self, work, target_port):
        self.dir = work
        self.port = free_port()
        conf = os.path.join(work, "prometheus.yml")
        with open(conf, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "  evaluation_interval: 1s\n"
                    "scrape_configs:\n  - job_name: jiko\n    static_configs:\n"
                    "      - targets: ['127.0.0.1:%d']\n" % target_port)
        self.log = open(os.path.join(work, "prometheus.log"), "wb")
        self.proc = subprocess.Popen(
            [which("prometheus"), "--config.file=" + conf,
             "--storage.tsdb.path=" + os.path.join(work, "tsdb"),
             "--web.listen-address=127.0.0.1:%d" % self.port],
            stdout=self.log, stderr=self.log)

    def logtext(self):
        try:
            return open(os.path.join(self.dir, "prometheus.log"), errors="replace").read()[-2000:]
        except OSError:
            return ""

    def api(self, path, **params):
        url = "http://127.0.0.1:%d%s" % (self.port, path)
        if params:
            url += "?" + urllib.parse.urlencode(params)
        with urllib.request.urlopen(url, timeout=5) as r:
            return json.loads(r.read())

    def query(self, q):
        """[(labels, value)] of an instant query."""
        d = self.api("/api/v1/query", query=q)
        return [(x["metric"], float(x["value"][1])) for x in d["data"]["result"]]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def wait_for(what, fn, deadline):
    """Poll fn until it returns (True, detail) or the deadline passes."""
    detail = None
    while True:
        try:
            ok, detail = fn()
        except (OSError, ValueError, KeyError) as e:
            ok, detail = False, "%s: %s" % (type(e).__name__, e)
        if ok or time.time() > deadline:
            return check(ok, "%s (%s)" % (what, detail))
        time.sleep(0.25)


def vmrss(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def with_prometheus(srv, by, refused, tokens):
    work = tempfile.mkdtemp(prefix="jiko-prom-")
    prom = Prom(work, srv.port)
    t0 = time.time()
    deadline = t0 + WAIT_S
    try:
        def ready():
            if prom.proc.poll() is not None:
                raise ValueError("prometheus exited %d: %s" % (prom.proc.returncode,
                                                               prom.logtext()))
            r = prom.query('up{job="jiko"}')
            return r == [(r[0][0], 1.0)] if r else False, r
        if not wait_for("Prometheus scrapes jiko: up{job=\"jiko\"} == 1", ready, deadline):
            print(prom.logtext())
            return
        print("# up after %.1f s" % (time.time() - t0))
        tg = prom.api("/api/v1/targets")["data"]["activeTargets"]
        jt = [x for x in tg if x["labels"].get("job") == "jiko"]
        check(len(jt) == 1 and jt[0]["health"] == "up" and jt[0]["lastError"] == "",
              "target jiko healthy, no scrape error (%s)" % [(x["health"], x["lastError"])
                                                            for x in jt])
        # families and their types, as Prometheus read them
        types = {"jiko_http_requests_total": "counter",
                 "jiko_http_request_duration_seconds": "histogram",
                 "jiko_http_refused_total": "counter", "jiko_http_inflight_requests": "gauge",
                 "jiko_http_read_runs_total": "counter",
                 "jiko_registry_key_hint_reads_total": "counter",
                 "jiko_registry_key_hint_slots": "gauge",
                 "jiko_registry_key_hint_filled": "gauge",
                 "jiko_resident_memory_bytes": "gauge", "jiko_open_incidents": "gauge"}
        meta = prom.api("/api/v1/metadata")["data"]
        got = {k: meta.get(k, [{}])[0].get("type") for k in types}
        check(got == types, "metric types as Prometheus read them: %s" % got)

        def requests_total():
            r = prom.query("jiko_http_requests_total")
            seen = {(m["route"], m["status"]): v for m, v in r if m["route"] != "/metrics"}
            want = {k: float(v) for k, v in by.items()}
            return seen == want, "%d series; differ: %s" % (
                len(seen), sorted(set(seen.items()) ^ set(want.items()))[:6])
        wait_for("jiko_http_requests_total: every route and status as tallied here", 
                 requests_total, deadline)
        def scrapes():
            r = prom.query('jiko_http_requests_total{route="/metrics",status="200"}')
            return bool(r) and r[0][1] >= 3, r and r[0][1]
        wait_for("the scrapes themselves counted: /metrics 200 rises past 2", scrapes, deadline)
        n401 = sum(v for (route, st), v in by.items() if st == "401")
        r = prom.query('sum(jiko_http_requests_total{status="401"})')
        check(r and r[0][1] == n401, "401s: %s, caused %d" % (r and r[0][1], n401))

        per_route = Counter()
        for (route, st), v in by.items():
            per_route[route] += v

        def durations():
            r = prom.query("jiko_http_request_duration_seconds_count")
            seen = {m["route"]: v for m, v in r if m["route"] != "/metrics"}
            return seen == {k: float(v) for k, v in per_route.items()}, seen
        wait_for("jiko_http_request_duration_seconds_count: the requests of each route",
                 durations, deadline)
        r = prom.query('jiko_http_request_duration_seconds_bucket{route="/api/v1/rules"}')
        bs = sorted((float(m["le"]), v) for m, v in r)
        check(len(bs) == 16 and bs[-1] == (math.inf, per_route["/api/v1/rules"])
              and all(bs[i][1] <= bs[i + 1][1] for i in range(len(bs) - 1)),
              "jiko_http_request_duration_seconds_bucket of /api/v1/rules: %d buckets, "
              "cumulative, +Inf = %d" % (len(bs), per_route["/api/v1/rules"]))
        r = prom.query('histogram_quantile(0.9, jiko_http_request_duration_seconds_bucket'
                       '{route="/api/v1/rules"})')
        check(r and 0 < r[0][1] <= 10, "histogram_quantile(0.9) of /api/v1/rules: %s s" % (
            r and r[0][1]))

        def refusals():
            r = prom.query("jiko_http_refused_total")
            seen = {m["reason"]: v for m, v in r}
            return seen == {k: float(v) for k, v in refused.items()}, seen
        wait_for("jiko_http_refused_total by reason: %s" % refused, refusals, deadline)
        r = prom.query("jiko_http_inflight_requests")
        check(r and r[0][1] == 0, "jiko_http_inflight_requests idle: %s" % (r and r[0][1]))
        r = prom.query("jiko_http_inflight_limit")
        check(r and r[0][1] == 64, "jiko_http_inflight_limit: %s" % (r and r[0][1]))
        r = prom.query("jiko_resident_memory_bytes")
        rss = vmrss(srv.proc.pid)
        check(r and 0.5 * rss <= r[0][1] <= 2 * rss,
              "jiko_resident_memory_bytes %s near VmRSS %d" % (r and r[0][1], rss))
        r = prom.query("jiko_open_incidents")
        check(r and r[0][1] == 2, "jiko_open_incidents: %s (2 stored ongoing)" % (r and r[0][1]))
        r = prom.query("jiko_api_tokens")
        check(r and r[0][1] == tokens, "jiko_api_tokens: %s (%d made)" % (r and r[0][1], tokens))
        print("# Prometheus part took %.1f s" % (time.time() - t0))
    finally:
        rc = prom.stop()
        check(rc == 0, "Prometheus stopped (exit %s)" % rc)
        shutil.rmtree(work, ignore_errors=True)


def main():
    prom_bin, promtool = which("prometheus"), which("promtool")
    if not prom_bin or not promtool:
        if CI:
            check(False, "prometheus and promtool installed (CI=true: no skip; scripts/deps.sh)")
            return 1
        print("skip: prometheus or promtool not installed (scripts/deps.sh installs them)")
        return 0
    t0 = time.time()
    srvdir = tempfile.mkdtemp(prefix="jiko-prom-serve-")
    srv = Server(JIKO, conf="rate = 1\nburst = 20\nmax_body_bytes = 65536\n", workdir=srvdir)
    srv.start()
    try:
        tok = {"admin": srv.token("admin", A), "viewer": srv.token("viewer", A),
               "regulator": srv.token("regulator"), "rate": srv.token("regulator")}
        by, refused = make_requests(srv, tok)
        st, h, data = srv.request("GET", "/metrics")
        check(st == 200 and h.get("content-type", "").startswith("text/plain; version=0.0.4"),
              "GET /metrics: 200 %s" % h.get("content-type"))
        text = data.decode("utf-8")
        out = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                             text=True)
        lint = (out.stdout + out.stderr).strip()
        check(out.returncode == 0, "promtool check metrics: exit %d" % out.returncode)
        print("# promtool lint: " + (lint.replace("\n", "\n# promtool lint: ") if lint
                                     else "(nothing)"))
        samples, declared, problems = parse_text(text)
        check(not problems and len(samples) > 50,
              "exposition: %d samples, each once after its TYPE; histograms consistent (%s)" % (
                  len(samples), problems[:3]))
        with_prometheus(srv, by, refused, len(tok))
    finally:
        rc = srv.stop()
        check(rc == 0, "jiko serve stopped: exit %s" % rc)
        if check.failed:
            print("# kept for inspection: " + srvdir)
        else:
            shutil.rmtree(srvdir, ignore_errors=True)
    print("# took %.1f s" % (time.time() - t0))
    print("%d checks, %d failure(s)" % (check.n, check.failed))
    return 1 if check.failed else 0


if __name__ == "__main__":
    sys.exit(main())
