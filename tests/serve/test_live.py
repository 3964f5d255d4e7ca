#!/usr/bin/env python3
"""test_live.py JIKO — KPIs and alerts in, incidents out, with the real senders.

`jiko serve` runs with [watch] sections for two operators.  Then:

  - the ingest endpoints' answers, good and bad: roles (401, 403 for admin,
    viewer and regulator tokens), remote_write bodies that are not snappy
    (400 text/plain, as Prometheus answers), remote_write 2.0 (415), Influx
    line protocol with one bad line (400 {"code":"invalid"} and nothing of
    the body taken), a bad precision, Alertmanager payloads of the wrong
    version or with malformed alerts (the valid ones still taken);
  - one operator's ingest token never opens or changes another's incident;
  - Prometheus (Debian's 2.42) scrapes a KPI served here every 100 ms and
    remote-writes it to jiko with its ingest token; the KPI is steady, then
    jumps: the incident must open with started_at at the jump (within a
    second), from the watch's service and users, and close after the KPI is
    back to normal;
  - Alertmanager (Debian's prometheus-alertmanager) gets an alert through
    its API and sends its webhook to jiko: the incident opens with
    started_at = startsAt; the alert is resolved: Alertmanager's resolved
    notification closes it with ended_at = endsAt;
  - kill -9: an alert answered 2xx is in the registry after a kill -9 and a
    restart; sent again, it joins that incident instead of opening a second;
  - webhooks: the engine's events (incident.opened, incident.closed) reach a
    receiver on loopback, signed (verified with Python's hmac), carrying the
    incident and its classification.

Without prometheus or prometheus-alertmanager the parts that need them are
skipped, except under CI=true, where that is a failure."""
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jikoserve import Checks, Server, free_port, quote, which  # noqa: E402

JIKO = os.path.abspath(sys.argv[1])
CI = os.environ.get("CI") == "true"
check = Checks()
A, B = "株式会社エー通信", "Other ISP"

CONF = """
[watch kpi-tokyo]
match = kpi_failure_ratio{site="tokyo"}
operator = %(A)s
service = internet_access
users = 50000
equipment = application_server
area = 東京都

[watch mail]
match = {alertname="MailDown"}
operator = %(A)s
service = email_paid
users = 20000
effect = stop

[watch b-mail]
match = {alertname="MailDown"}
operator = %(B)s
service = email_paid
users = 999

[live]
close_samples = 5
close_min = 0
""" % {"A": A, "B": B}


def iso(t):
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def incidents(srv, token, op):
    st, _, body = srv.json("GET", "/api/v1/incidents?operator=" + quote(op), token=token)
    assert st == 200, (st, body)
    return body["incidents"]


def wait_for(what, fn, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.2)
    check(False, "%s within %d s" % (what, timeout))
    return None


def alert_body(name, status, starts, ends=None, extra=None):
    a = {"status": status, "labels": dict({"alertname": name, "site": "tokyo"}, **(extra or {})),
         "annotations": {}, "startsAt": iso(starts),
         "endsAt": iso(ends) if ends else "0001-01-01T00:00:00Z", "fingerprint": "x"}
    return {"version": "4", "status": status, "receiver": "jiko", "groupLabels": {},
            "commonLabels": {}, "commonAnnotations": {}, "externalURL": "", "alerts": [a],
            "groupKey": "{}", "truncatedAlerts": 0}


def bad_requests(srv, tok):
    st, h, body = srv.request("POST", "/api/v1/write", b"x", ctype="application/x-protobuf")
    check(st == 401, "write without a token: 401 (%d)" % st)
    for role in ("admin", "viewer", "regulator"):
        st, h, body = srv.request("POST", "/api/v1/write", b"x", token=tok[role],
                                  ctype="application/x-protobuf")
        check(st == 403, "remote_write with a %s token: 403 (%d)" % (role, st))
        st, h, body = srv.request("POST", "/api/v1/alerts", "{}", token=tok[role])
        check(st == 403, "alerts with a %s token: 403 (%d)" % (role, st))
    st, h, body = srv.request("GET", "/api/v1/incidents", token=tok["ingest"])
    check(st == 403, "an ingest token may not read incidents: 403 (%d)" % st)
    st, h, body = srv.request("POST", "/api/v1/write", b"not snappy at all", token=tok["ingest"],
                              ctype="application/x-protobuf",
                              headers={"Content-Encoding": "snappy"})
    check(st == 400 and h.get("content-type", "").startswith("text/plain") and body,
          "remote_write body that is not snappy: 400 text/plain (%d %r)" % (st, body[:80]))
    st, h, body = srv.request("POST", "/api/v1/write", b"x", token=tok["ingest"],
                              ctype="application/x-protobuf;proto=io.prometheus.write.v2.Request")
    check(st == 415, "remote_write 2.0: 415 (%d)" % st)
    st, h, body = srv.request("POST", "/api/v1/write", b"x", token=tok["ingest"],
                              ctype="application/json")
    check(st == 415, "remote_write as JSON: 415 (%d)" % st)
    # Influx: one bad line spoils the body, as in InfluxDB
    lines = "kpi_failure_ratio,site=tokyo value=0.5 1\nkpi_failure_ratio,site=tokyo value=\n"
    st, h, body = srv.json("POST", "/api/v2/write?precision=s", lines, token=tok["ingest"],
                           ctype="text/plain")
    check(st == 400 and body.get("code") == "invalid" and "line protocol body:2" in body["message"],
          "influx body with a bad line 2: 400 invalid naming it (%d %s)" % (st, body))
    st, h, body = srv.json("POST", "/api/v2/write?precision=fortnight", "m v=1 1",
                           token=tok["ingest"], ctype="text/plain")
    check(st == 400 and body.get("code") == "invalid", "bad precision: 400 (%d %s)" % (st, body))
    st, h, body = srv.request("POST", "/api/v2/write?precision=s&org=x&bucket=y",
                              "other_metric,host=a value=1 1\n", token=tok["ingest"],
                              ctype="text/plain")
    check(st == 204 and body == b"", "influx write of an unwatched series: 204 (%d)" % st)
    st, h, body = srv.json("POST", "/api/v2/write?colour=red", "m v=1", token=tok["ingest"],
                           ctype="text/plain")
    check(st == 400, "influx write with an unknown parameter: 400 (%d)" % st)
    # Alertmanager payloads
    st, h, body = srv.json("POST", "/api/v1/alerts", "{not json", token=tok["ingest"])
    check(st == 400 and body["error"]["code"] == "invalid", "alerts: bad JSON 400 (%d)" % st)
    b = alert_body("Nothing", "firing", datetime.now(timezone.utc))
    b["version"] = "3"
    st, h, body = srv.json("POST", "/api/v1/alerts", json.dumps(b), token=tok["ingest"])
    check(st == 400 and body["error"]["field"] == "version", "alerts v3: 400 version (%d)" % st)
    b = alert_body("Nothing", "firing", datetime.now(timezone.utc))
    b["alerts"].append({"status": "firing", "labels": {"alertname": 5}, "startsAt": "x"})
    b["alerts"].append({"status": "firing", "labels": {"alertname": "X"}, "startsAt": "x"})
    st, h, body = srv.json("POST", "/api/v1/alerts", json.dumps(b), token=tok["ingest"])
    check(st == 400 and body["error"]["field"] == "alerts[1]" and
          "2 of 3 alerts are malformed" in body["error"]["message"],
          "alerts with two malformed: 400 naming the first (%d %s)" % (st, body))
    st, h, body = srv.json("POST", "/api/v1/alerts", json.dumps(alert_body(
        "Unwatched", "firing", datetime.now(timezone.utc))), token=tok["ingest"])
    check(st == 200 and body == {"alerts": 1, "matched": 0},
          "an alert no watch selects: 200, matched 0 (%d %s)" % (st, body))


def cross_operator(srv, tok, tok_b):
    """B's ingest token sends the alert A's watch selects: only B's incident."""
    before = len(incidents(srv, tok["regulator"], A))
    st, h, body = srv.json("POST", "/api/v1/alerts", json.dumps(alert_body(
        "MailDown", "firing", datetime.now(timezone.utc) - timedelta(minutes=1))), token=tok_b)
    check(st == 200 and body["matched"] == 1, "B's alert matched B's watch (%d %s)" % (st, body))
    check(len(incidents(srv, tok["regulator"], A)) == before, "B's alert opened nothing of A")
    bs = incidents(srv, tok["regulator"], B)
    check(len(bs) == 1 and bs[0]["users"] == 999, "B's alert opened B's incident: %s" % bs)


class Kpi(http.server.BaseHTTPRequestHandler):
    """/metrics with kpi_failure_ratio{site="tokyo"}: steady, or failing."""
    value = 0.01
    n = 0

    def do_GET(self):
        Kpi.n += 1
        v = Kpi.value + 0.0005 * (Kpi.n % 5)
        text = ("# TYPE kpi_failure_ratio gauge\n"
                'kpi_failure_ratio{site="tokyo"} %g\n' % v).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def log_message(self, *a):
        pass


def with_prometheus(srv, tok, work):
    prom = which("prometheus")
    if not prom:
        check(not CI, "prometheus is installed (scripts/deps.sh)")
        print("test_live: SKIP the Prometheus part: no prometheus")
        return
    exporter = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Kpi)
    threading.Thread(target=exporter.serve_forever, daemon=True).start()
    port = free_port()
    cfg = os.path.join(work, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("""global:
  scrape_interval: 100ms
  scrape_timeout: 90ms
scrape_configs:
  - job_name: kpi
    static_configs:
      - targets: ['127.0.0.1:%d']
remote_write:
  - url: http://127.0.0.1:%d/api/v1/write
    authorization:
      credentials: %s
    queue_config:
      batch_send_deadline: 200ms
      min_backoff: 100ms
      max_backoff: 1s
""" % (exporter.server_address[1], srv.port, tok["ingest"]))
    log = open(os.path.join(work, "prometheus.log"), "wb")
    p = subprocess.Popen([prom, "--config.file=" + cfg, "--web.listen-address=127.0.0.1:%d" % port,
                          "--storage.tsdb.path=" + os.path.join(work, "tsdb")],
                         stdout=log, stderr=log)
    try:
        # steady for the detector's warm-up (150 samples), then the jump
        wait_for("Prometheus scraping 200 samples", lambda: Kpi.n >= 220, 90)
        jump = datetime.now(timezone.utc)
        Kpi.value = 0.95
        opened = wait_for("the incident opened from remote_write",
                          lambda: [i for i in incidents(srv, tok["regulator"], A)
                                   if i["id"].endswith("kpi-tokyo")], 30)
        if opened:
            inc = opened[0]
            started = datetime.fromisoformat(inc["started_at"])
            check(abs((started - jump).total_seconds()) < 1.5,
                  "started_at %s at the jump %s" % (inc["started_at"], iso(jump)))
            check(inc["users"] == 50000 and inc["ended_at"] is None,
                  "users from the watch, ongoing: %s" % inc)
            time.sleep(3)  # 30 scrapes at the failed level: the detector quiets, not the KPI
            still = [i for i in incidents(srv, tok["regulator"], A) if i["id"] == inc["id"]]
            check(still and still[0]["ended_at"] is None,
                  "still open while the KPI stays at its failed level")
            Kpi.value = 0.01
            closed = wait_for("the incident closed after the KPI recovered", lambda: [
                i for i in incidents(srv, tok["regulator"], A)
                if i["id"] == inc["id"] and i["ended_at"]], 60)
            if closed:
                ended = datetime.fromisoformat(closed[0]["ended_at"])
                check(ended > started, "ended_at %s after started_at" % closed[0]["ended_at"])
                st, _, hist = srv.json("GET", "/api/v1/incidents/%s/%s/history" % (
                    quote(A), quote(inc["id"])), token=tok["admin"])
                reasons = [v["reason"] for v in hist["versions"]]
                check(reasons[0].startswith("live: opened by watch kpi-tokyo") and
                      reasons[-1].startswith("live: closed"), "history reasons: %s" % reasons)
        st, _, text = srv.request("GET", "/metrics")
        check(b'jiko_live_samples_total{watched="true"}' in text, "/metrics has the engine's samples")
    finally:
        p.terminate()
        p.wait(30)
        exporter.shutdown()


def with_alertmanager(srv, tok, work):
    am = which("prometheus-alertmanager") or which("alertmanager")
    if not am:
        check(not CI, "prometheus-alertmanager is installed (scripts/deps.sh)")
        print("test_live: SKIP the Alertmanager part: no prometheus-alertmanager")
        return
    port = free_port()
    cfg = os.path.join(work, "alertmanager.yml")
    with open(cfg, "w") as f:
        f.write("""route:
  receiver: jiko
  group_by: ['alertname']
  group_wait: 500ms
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: jiko
    webhook_configs:
      - url: http://127.0.0.1:%d/api/v1/alerts
        send_resolved: true
        http_config:
          authorization:
            credentials: %s
""" % (srv.port, tok["ingest"]))
    log = open(os.path.join(work, "alertmanager.log"), "wb")
    p = subprocess.Popen([am, "--config.file=" + cfg, "--web.listen-address=127.0.0.1:%d" % port,
                          "--storage.path=" + os.path.join(work, "am"),
                          "--cluster.listen-address="], stdout=log, stderr=log)
    try:
        api = "http://127.0.0.1:%d/api/v2/alerts" % port

        def post(alerts):
            req = urllib.request.Request(api, json.dumps(alerts).encode(),
                                         {"Content-Type": "application/json"})
            urllib.request.urlopen(req, timeout=10).read()

        wait_for("Alertmanager up", lambda: _up("http://127.0.0.1:%d/-/ready" % port), 30)
        starts = (datetime.now(timezone.utc) - timedelta(minutes=3)).replace(microsecond=0)
        labels = {"alertname": "MailDown", "site": "tokyo", "severity": "page"}
        post([{"labels": labels, "startsAt": iso(starts)}])
        opened = wait_for("the incident opened by Alertmanager's webhook", lambda: [
            i for i in incidents(srv, tok["regulator"], A) if i["id"].endswith("-mail")], 30)
        if opened:
            inc = opened[0]
            check(datetime.fromisoformat(inc["started_at"]) == starts,
                  "started_at %s = startsAt %s" % (inc["started_at"], iso(starts)))
            ends = (datetime.now(timezone.utc) - timedelta(seconds=5)).replace(microsecond=0)
            post([{"labels": labels, "startsAt": iso(starts), "endsAt": iso(ends)}])
            closed = wait_for("the incident closed by the resolved notification", lambda: [
                i for i in incidents(srv, tok["regulator"], A)
                if i["id"] == inc["id"] and i["ended_at"]], 30)
            if closed:
                check(datetime.fromisoformat(closed[0]["ended_at"]) == ends,
                      "ended_at %s = endsAt %s" % (closed[0]["ended_at"], iso(ends)))
    finally:
        p.terminate()
        p.wait(30)


def _up(url):
    try:
        return urllib.request.urlopen(url, timeout=2).status == 200
    except OSError:
        return False


def kill9(work):
    """An acknowledged alert survives kill -9; sent again after the restart
    it joins its incident."""
    os.makedirs(os.path.join(work, "k9"), exist_ok=True)
    srv = Server(JIKO, conf=CONF, workdir=os.path.join(work, "k9")).start()
    tok = srv.token("ingest", A)
    reg = srv.token("regulator")
    starts = datetime.now(timezone.utc) - timedelta(minutes=10)
    body = json.dumps(alert_body("MailDown", "firing", starts))
    st, _, _ = srv.json("POST", "/api/v1/alerts", body, token=tok)
    check(st == 200, "alert acknowledged (%d)" % st)
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait()
    srv.start()
    got = incidents(srv, reg, A)
    check(len(got) == 1 and got[0]["ended_at"] is None,
          "after kill -9: the acknowledged incident is there (%s)" % got)
    st, _, _ = srv.json("POST", "/api/v1/alerts", body, token=tok)
    check(st == 200 and len(incidents(srv, reg, A)) == 1,
          "sent again after the restart: no second incident")
    ends = datetime.now(timezone.utc).replace(microsecond=0)
    st, _, _ = srv.json("POST", "/api/v1/alerts",
                        json.dumps(alert_body("MailDown", "resolved", starts, ends)), token=tok)
    srv.proc.send_signal(signal.SIGKILL)
    srv.proc.wait()
    srv.start()
    got = incidents(srv, reg, A)
    check(len(got) == 1 and got[0]["ended_at"] is not None,
          "the acknowledged resolution survived kill -9 too (%s)" % got)
    check(srv.stop() == 0, "jiko serve stopped cleanly")


def webhooks(work):
    """The engine's events as signed webhooks to a receiver."""
    from test_webhook import Receiver, verify  # the receiver and checker of test_webhook.py
    import base64
    secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    rport = free_port()
    rcv = Receiver(rport)
    os.makedirs(os.path.join(work, "wh"), exist_ok=True)
    conf = CONF + ("[webhook noc]\noperator = %s\nurl = http://127.0.0.1:%d/noc\nsecret = %s\n"
                   % (A, rport, secret))
    srv = Server(JIKO, conf=conf, workdir=os.path.join(work, "wh")).start()
    try:
        tok = srv.token("ingest", A)
        starts = datetime.now(timezone.utc) - timedelta(minutes=5)
        st, _, _ = srv.json("POST", "/api/v1/alerts", json.dumps(alert_body("MailDown", "firing", starts)),
                            token=tok)
        ends = datetime.now(timezone.utc).replace(microsecond=0)
        st2, _, _ = srv.json("POST", "/api/v1/alerts",
                             json.dumps(alert_body("MailDown", "resolved", starts, ends)), token=tok)
        check(st == 200 and st2 == 200, "alerts taken (%d, %d)" % (st, st2))
        got = wait_for("two webhooks delivered", lambda: len(rcv.got) >= 2 and list(rcv.got), 30) or []
        types = []
        for _, h, body, path in sorted(got, key=lambda g: g[0]):
            ok = verify(secret, h.get("webhook-id", ""), h.get("webhook-timestamp", ""), body,
                        h.get("webhook-signature", ""))
            msg = json.loads(body)
            types.append(msg.get("type"))
            data = msg.get("data", {})
            check(ok, "%s: signature verified by Python's hmac" % msg.get("type"))
            check(data.get("incident", {}).get("operator") == A and
                  data.get("classification", {}).get("id", "").endswith("-mail"),
                  "%s: the incident and its classification in data" % msg.get("type"))
        check(sorted(types) == ["incident.closed", "incident.opened"], "opened and closed: %s" % types)
    finally:
        check(srv.stop() == 0, "jiko serve (with webhooks) stopped cleanly")
        rcv.stop()


def main():
    work = tempfile.mkdtemp(prefix="jiko-live-")
    srv = Server(JIKO, conf=CONF, workdir=work).start()
    try:
        tok = {r: srv.token(r, None if r == "regulator" else A)
               for r in ("ingest", "admin", "viewer", "regulator")}
        tok_b = srv.token("ingest", B)
        bad_requests(srv, tok)
        cross_operator(srv, tok, tok_b)
        with_alertmanager(srv, tok, work)
        with_prometheus(srv, tok, work)
        check(srv.stop() == 0, "jiko serve stopped cleanly")
        check(os.path.exists(os.path.join(work, "jiko.db.live")),
              "the detectors' checkpoint was written at shutdown")
        kill9(work)
        webhooks(work)
    finally:
        if srv.proc:
            srv.stop(signal.SIGKILL)
    print("test_live: %d checks, %d failed" % (check.n, check.failed))
    if check.failed:
        print(srv.logtext())
        sys.exit(1)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
