#!/usr/bin/env python3
"""test_webhook.py JIKO — outgoing webhooks against a real HTTP receiver.

A receiver written here (http.server on a free loopback port) records
every request and checks its signature with an implementation of its own
(Python's hmac, hashlib and base64: Standard Webhooks' rule, not jiko's
code).  The retry windows are shortened for the test through
$JIKO_WEBHOOK_TEST_BACKOFF_MS and $JIKO_WEBHOOK_TEST_HORIZON_MS
(docs/webhooks.md).  Checked:

  1. signature: Standard Webhooks' published example verifies here, and
     every request jiko sends verifies (id, timestamp, body) with the
     subscription's secret; the body is {"type","timestamp","data"};
  2. retries: a receiver answering 503 gets the same message (same
     webhook-id) again after delays drawn from windows that double, then
     an answer 200 ends it: delivered once;
  3. receiver down (connection refused): attempts fail and are rescheduled
     with growing windows (the outbox's attempts, last error and next
     attempt); the receiver comes up: every message delivered exactly once;
  4. give up: with a short horizon, a message that never gets through is
     given up (kept, marked), and is not sent when the receiver comes up;
  5. kill -9: `jiko webhook deliver --until-empty` killed with SIGKILL
     several times while the receiver is down; then the receiver is up and
     one more run delivers every queued message (by id: duplicates
     allowed, losses not);
  6. `jiko serve --config` with [webhook] sections delivers what is queued
     in its registry from its sender thread and stops on SIGTERM; [watch],
     [live] and [webhook] sections pass the [serve] reader, [bogus] does
     not.
"""
import base64
import hashlib
import hmac
import http.server
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jikoserve  # noqa: E402

JIKO = sys.argv[1]
check = jikoserve.Checks()
SECRET = "whsec_" + base64.b64encode(os.urandom(32)).decode()
BACKOFF_MS = 100


def verify(secret, msg_id, ts, body, header):
    """Standard Webhooks: v1,base64(HMAC-SHA256(base64-decoded secret,
    "id.timestamp.body")); a header may carry several space-separated."""
    key = base64.b64decode(secret[len("whsec_"):])
    want = base64.b64encode(hmac.new(key, ("%s.%s." % (msg_id, ts)).encode() + body,
                                     hashlib.sha256).digest()).decode()
    return any(s.startswith("v1,") and hmac.compare_digest(s[3:], want)
               for s in header.split(" "))


class Receiver:
    """Records every POST; answers `status`: a number, or a function of the
    path and how many requests that path has had (this one included)."""

    def __init__(self, port, status=200):
        self.port = port
        self.status = status
        self.got = []  # (time, headers dict lower-case, body bytes, path)
        self.lock = threading.Lock()
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                with outer.lock:
                    outer.got.append((time.time(), {k.lower(): v for k, v in self.headers.items()},
                                      body, self.path))
                    k = sum(1 for g in outer.got if g[3] == self.path)
                st = outer.status(self.path, k) if callable(outer.status) else outer.status
                self.send_response(st)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *a):
                pass

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()

    def ids(self):
        with self.lock:
            return [h.get("webhook-id") for _, h, _, _ in self.got]


def write_conf(d, port, extra=""):
    path = os.path.join(d, "jiko.conf")
    with open(path, "w") as f:
        f.write("[serve]\nlisten = 127.0.0.1:0\n"
                "[watch dns-tokyo]\nmatch = x\noperator = Demo ISP\nservice = dns\nusers = 1\n"
                "[live]\nlead_minutes = 60\n"
                "[webhook noc]\noperator = Demo ISP\nurl = http://127.0.0.1:%d/noc\n"
                "secret = %s\nevents = incident.opened, incident.closed\n"
                "[webhook mic]\nregulator = true\nurl = http://127.0.0.1:%d/mic\nsecret = %s\n"
                % (port, SECRET, port, SECRET) + extra)
    return path


def env(horizon_ms=None):
    e = dict(os.environ)
    e["JIKO_WEBHOOK_TEST_BACKOFF_MS"] = str(BACKOFF_MS)
    if horizon_ms:
        e["JIKO_WEBHOOK_TEST_HORIZON_MS"] = str(horizon_ms)
    else:
        e.pop("JIKO_WEBHOOK_TEST_HORIZON_MS", None)
    e["LANG"] = "C"
    return e


def jiko(*args, horizon_ms=None, timeout=120):
    return subprocess.run([JIKO, "webhook"] + list(args), capture_output=True, text=True,
                          env=env(horizon_ms), timeout=timeout)


def emit(conf, db, etype, op, incident, data=None):
    args = ["emit", "--config", conf, "--db", db, "--type", etype, "--operator", op,
            "--incident", incident]
    if data is not None:
        args += ["--data", data]
    r = jiko(*args)
    if r.returncode != 0:
        raise AssertionError("emit: %d %s" % (r.returncode, r.stderr))
    return int(r.stdout.split()[1])


def outbox(db):
    r = jiko("list", "--db", db, "--json")
    if r.returncode != 0:
        raise AssertionError("list: %d %s" % (r.returncode, r.stderr))
    return [json.loads(l) for l in r.stdout.splitlines() if l.strip()]


def all_signed(rcv, what):
    bad = 0
    now = time.time()
    with rcv.lock:
        got = list(rcv.got)
    for _, h, body, _ in got:
        ts = h.get("webhook-timestamp", "")
        ok = (h.get("content-type") == "application/json" and ts.isdigit()
              and abs(int(ts) - now) < 600
              and verify(SECRET, h.get("webhook-id", ""), ts, body, h.get("webhook-signature", "")))
        bad += not ok
    check(got and bad == 0, "%s: %d requests, every signature verified by Python's hmac" % (what, len(got)))


def test_vector():
    # https://github.com/standard-webhooks/standard-webhooks (libraries' tests)
    check(verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
                 "1614265330", b'{"test": 2432232314}',
                 "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
          "Standard Webhooks' published example verifies with this test's implementation")


def test_retries(d):
    port = jikoserve.free_port()
    conf = write_conf(d, port)
    db = os.path.join(d, "retries.db")
    n = emit(conf, db, "incident.opened", "Demo ISP", "2026-001", '{"users": 1200, "report": "serious"}')
    check(n == 2, "emit: the operator's and the regulator's subscriptions: 2 queued (got %d)" % n)
    n = emit(conf, db, "incident.updated", "Other ISP", "x-1")
    check(n == 1, "emit: another operator's incident.updated: the regulator's only (got %d)" % n)
    n = emit(conf, db, "incident.updated", "Demo ISP", "2026-001")
    check(n == 1, "emit: an event outside noc's list: the regulator's only (got %d)" % n)
    msgs = outbox(db)
    check(len(msgs) == 4 and all(m["state"] == "pending" and m["attempts"] == 0 for m in msgs),
          "list: 4 pending messages, none attempted")
    first = [m for m in msgs if m["subscription"] == "noc"][0]
    body = json.loads(first["body"])
    check(set(body) == {"type", "timestamp", "data"} and body["type"] == "incident.opened"
          and body["timestamp"].endswith("Z") and body["data"]["users"] == 1200
          and body["data"]["operator"] == "Demo ISP" and body["data"]["incident_id"] == "2026-001",
          "body: type, timestamp (UTC), data with operator and incident_id added")
    # noc's URL answers 503 six times, then 200; the regulator's 200 at once
    fails = 6
    rcv = Receiver(port, status=lambda path, k: 503 if path == "/noc" and k <= fails else 200)
    try:
        r = jiko("deliver", "--config", conf, "--db", db, "--until-empty", "30")
        check(r.returncode == 0, "deliver --until-empty: exit 0 once nothing is pending (%d)" % r.returncode)
        per = {}
        for t, h, b, p in rcv.got:
            per.setdefault(h["webhook-id"], []).append(t)
        check(sorted(per) == sorted(m["id"] for m in msgs),
              "the requests carry the outbox's message ids as webhook-id")
        check(len(per[first["id"]]) == fails + 1 and sum(len(v) for v in per.values()) == fails + 4,
              "noc's message: the same webhook-id 6 times answered 503, then once 200, never after; "
              "the others once each (%s)" % {k[-6:]: len(v) for k, v in per.items()})
        # the gaps: each within its window (100 ms, doubling with each
        # failure), and windows that grew (some gap beyond the first window)
        times = per[first["id"]]
        gaps = [(k, (times[k] - times[k - 1]) * 1000) for k in range(1, len(times))]
        check(all(g <= BACKOFF_MS * 2 ** (k - 1) + 400 for k, g in gaps),
              "every retry came within its window (100 ms doubling; +400 ms slack): %s"
              % [(k, int(g)) for k, g in gaps])
        check(bool(gaps) and max(g for k, g in gaps) > BACKOFF_MS * 1.05,
              "the windows grew: a delay beyond the first window")
        all_signed(rcv, "retries")
        msgs = outbox(db)
        check(all(m["state"] == "delivered" and m["delivered_ms"] and m["last_error"] == ""
                  for m in msgs), "list: every message delivered, the last error cleared")
        noc = [m for m in msgs if m["id"] == first["id"]][0]
        check(noc["attempts"] == fails + 1, "noc's message: %d attempts recorded" % noc["attempts"])
    finally:
        rcv.stop()


def test_down_then_up(d):
    port = jikoserve.free_port()
    conf = write_conf(d, port)
    db = os.path.join(d, "down.db")
    for i in range(3):
        emit(conf, db, "incident.closed", "Demo ISP", "down-%d" % i)
    # receiver down: each run makes attempts that fail
    last = {}
    for run in range(3):
        r = jiko("deliver", "--config", conf, "--db", db, "--until-empty", "1")
        check(r.returncode == 11, "receiver down, run %d: exit 11 (messages still pending), got %d"
              % (run + 1, r.returncode))
    msgs = outbox(db)
    check(len(msgs) == 6 and all(m["state"] == "pending" and m["attempts"] >= 2 for m in msgs),
          "receiver down: 6 messages pending, each attempted several times (%s)"
          % [m["attempts"] for m in msgs])
    check(all("onnect" in m["last_error"] for m in msgs),
          "the last error says the connection failed (%r)" % msgs[0]["last_error"])
    ok = all(0 <= m["next_attempt_ms"] - m["last_attempt_ms"] <= BACKOFF_MS * 2 ** (m["attempts"] - 1) + 5
             for m in msgs)
    check(ok, "each next attempt is within the window of its attempt count: %s"
          % [(m["attempts"], m["next_attempt_ms"] - m["last_attempt_ms"]) for m in msgs])
    rcv = Receiver(port)
    try:
        r = jiko("deliver", "--config", conf, "--db", db, "--until-empty", "30")
        check(r.returncode == 0, "receiver up: deliver exits 0 (%d: %s)" % (r.returncode, r.stderr[-300:]))
        ids = rcv.ids()
        want = sorted(m["id"] for m in msgs)
        check(sorted(ids) == want, "receiver up: every message delivered exactly once")
        check(sorted(p for _, _, _, p in rcv.got) == ["/mic"] * 3 + ["/noc"] * 3,
              "each to its subscription's URL")
        all_signed(rcv, "down then up")
        msgs = outbox(db)
        check(all(m["state"] == "delivered" for m in msgs), "list: all delivered")
        # nothing more to send
        r = jiko("deliver", "--config", conf, "--db", db)
        check(r.returncode == 0 and len(rcv.got) == 6, "a further run sends nothing")
    finally:
        rcv.stop()


def test_give_up(d):
    port = jikoserve.free_port()
    conf = write_conf(d, port)
    db = os.path.join(d, "giveup.db")
    t0 = time.time()  # the horizon counts from the message's creation
    emit(conf, db, "incident.opened", "Demo ISP", "gone-1")
    # 4 s: room for several attempts even when the deliverer starts slowly
    # (an ASan build on a loaded machine took 1.7 s to make its first)
    r = jiko("deliver", "--config", conf, "--db", db, "--until-empty", "20", horizon_ms=4000)
    took = time.time() - t0
    check(r.returncode == 0, "horizon 4 s, receiver down: deliver ends with nothing pending (%d)"
          % r.returncode)
    check(4 <= took < 18, "it ended after the horizon (%.2f s after the event was queued)" % took)
    msgs = outbox(db)
    check(len(msgs) == 2 and all(m["state"] == "given_up" and m["gave_up_ms"] for m in msgs),
          "both messages given up, kept in the outbox")
    check(all(m["gave_up_ms"] - m["created_ms"] >= 4000 and m["attempts"] >= 2 for m in msgs),
          "given up at the horizon after several attempts (%s)"
          % [(m["attempts"], m["gave_up_ms"] - m["created_ms"]) for m in msgs])
    check("given up" in r.stderr, "deliver said so")
    rcv = Receiver(port)
    try:
        r = jiko("deliver", "--config", conf, "--db", db)
        check(r.returncode == 0 and not rcv.got, "receiver up later: a given-up message is not sent")
    finally:
        rcv.stop()


def test_kill9(d):
    port = jikoserve.free_port()
    conf = write_conf(d, port)
    db = os.path.join(d, "kill.db")
    ids_before = 0
    for i in range(10):
        ids_before += emit(conf, db, "incident.opened", "Demo ISP", "k-%d" % i)
    queued = sorted(m["id"] for m in outbox(db))
    check(len(queued) == 20 and ids_before == 20, "20 messages queued")
    seed = int(os.environ.get("JIKO_WEBHOOK_SEED", random.randrange(1 << 30)))
    rnd = random.Random(seed)
    print("kill -9 seed %d (JIKO_WEBHOOK_SEED=%d repeats it)" % (seed, seed))
    kills = 0
    for _ in range(4):
        p = subprocess.Popen([JIKO, "webhook", "deliver", "--config", conf, "--db", db,
                              "--until-empty", "60", "--timeout", "1"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env())
        time.sleep(rnd.uniform(0.2, 1.2))
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            kills += 1
        p.wait()
    check(kills >= 3, "deliver killed with SIGKILL %d times while the receiver was down" % kills)
    msgs = outbox(db)
    check(len(msgs) == 20 and all(m["state"] == "pending" for m in msgs)
          and sum(m["attempts"] for m in msgs) > 0,
          "after the kills: 20 messages, all pending, attempts recorded")
    rcv = Receiver(port)
    try:
        r = jiko("deliver", "--config", conf, "--db", db, "--until-empty", "60", "--timeout", "1")
        check(r.returncode == 0, "receiver up: a new run ends with nothing pending (%d)" % r.returncode)
        got = rcv.ids()
        check(set(got) == set(queued), "every queued message id received (%d distinct of %d, %d requests)"
              % (len(set(got)), len(queued), len(got)))
        all_signed(rcv, "after kill -9")
        check(all(m["state"] == "delivered" for m in outbox(db)), "list: all delivered")
    finally:
        rcv.stop()


def test_serve(d):
    port = jikoserve.free_port()
    rcv = Receiver(port)
    srv = jikoserve.Server(JIKO, workdir=d, conf="")
    # the server's config: [serve] with the webhook sections of write_conf
    path = write_conf(d, port)
    srv.conf_path = path
    try:
        srv.start()
        emit(path, srv.db, "incident.opened", "Demo ISP", "srv-1")
        deadline = time.time() + 15
        while len(rcv.got) < 2 and time.time() < deadline:
            time.sleep(0.05)
        check(len(rcv.got) == 2, "jiko serve: its sender delivered both queued messages (%d)" % len(rcv.got))
        all_signed(rcv, "jiko serve")
        st, _, _ = srv.request("GET", "/healthz")
        check(st == 200, "the server answers meanwhile")
        st, _, text = srv.request("GET", "/metrics")
        text = text.decode()
        check(st == 200 and 'jiko_webhook_messages{state="delivered"} 2\n' in text
              and 'jiko_webhook_messages{state="pending"} 0\n' in text,
              "/metrics: the outbox by state (2 delivered, 0 pending)")
        rc = srv.stop()
        log = srv.logtext()
        check("webhooks: 2 subscriptions, delivered from the registry's outbox" in log,
              "jiko serve says it delivers webhooks")
        check(rc == 0 and "webhooks: 2 delivered" in log,
              "SIGTERM: exit 0, the sender stopped with its counts (%d)" % rc)
    finally:
        if srv.proc:
            srv.stop(signal.SIGKILL)
        rcv.stop()
    # an unknown section is still an error for the [serve] reader
    bad = os.path.join(d, "bad.conf")
    with open(bad, "w") as f:
        f.write("[serve]\nthreads = 2\n[webhook a]\noperator = X\nurl = http://127.0.0.1:1/\n"
                "secret = %s\n[bogus]\nx = 1\n" % SECRET)
    r = subprocess.run([JIKO, "serve", "--config", bad, "--db", os.path.join(d, "b.db")],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 3 and "bad.conf:7: unknown section [bogus]" in r.stderr,
          "jiko serve: [bogus] is refused with file:line (%d %s)" % (r.returncode, r.stderr.strip()))
    with open(bad, "w") as f:
        f.write("[serve]\nthreads = 2\n[webhook a]\noperator = X\nurl = ftp://h/\nsecret = %s\n" % SECRET)
    r = subprocess.run([JIKO, "serve", "--config", bad, "--db", os.path.join(d, "b.db")],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 3 and "bad.conf:5: field 'url'" in r.stderr,
          "jiko serve: a bad [webhook] line is refused with file:line and field (%s)" % r.stderr.strip())


def main():
    d = tempfile.mkdtemp(prefix="jiko-webhook-")
    test_vector()
    for t in (test_retries, test_down_then_up, test_give_up, test_kill9, test_serve):
        print("--", t.__name__)
        sub = os.path.join(d, t.__name__)
        os.mkdir(sub)
        t(sub)
    print("%d checks, %d failed" % (check.n, check.failed))
    if check.failed == 0:
        subprocess.run(["rm", "-rf", d])
    sys.exit(1 if check.failed else 0)


if __name__ == "__main__":
    main()
