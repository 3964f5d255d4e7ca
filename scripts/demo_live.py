#!/usr/bin/env python3
"""demo_live.py JIKO DB — the live half of `make demo` (scripts/demo.sh).

Starts `jiko serve` over the demo's registry (the synthetic FY2021 year is
already in it) with the watches of examples/pepabo.conf, a webhook to a
receiver of this script (the operator's NOC), and `[live] clock = samples`;
replays examples/pepabo-2021-08-03.lp (a KPI recording modelled on GMO
Pepabo's mail outage of 2021-08-03): the four quiet days at once, then the
day of the outage at 600 times real time.  The detector fires, the incident
opens and counts down to "serious" on the recording's clock (the NOC hears
each alarm as it comes), closes on recovery; then the first report and the
recovery report are drafted and published, and the status page and its
feed show them.

Interactive: prints the dashboard's URL and the tokens to log in with, and
runs until Ctrl-C.  DEMO_NONINTERACTIVE=1: tells what happened and exits
(0 when every step was seen, 1 otherwise: tests/cli/test_demo.sh).
Standard library only."""
import base64
import http.server
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OP = "GMOペパボ株式会社"
JST = timezone(timedelta(hours=9))
REC = os.path.join(ROOT, "examples", "pepabo-2021-08-03.lp")
SPLIT = datetime(2021, 8, 3, 14, 0, tzinfo=JST)  # quiet days before, the outage's day after
SPEED = 600


def say(text=""):
    print(text, flush=True)


def jst(iso_or_ms):
    if isinstance(iso_or_ms, (int, float)):
        d = datetime.fromtimestamp(iso_or_ms / 1000, JST)
    else:
        d = datetime.fromisoformat(iso_or_ms.replace("Z", "+00:00")).astimezone(JST)
    return d.strftime("%m-%d %H:%M")


class Noc(http.server.BaseHTTPRequestHandler):
    """The operator's NOC: prints each webhook message as it arrives."""
    seen = []
    t0 = None

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(204)
        self.end_headers()
        try:
            msg = json.loads(body)
        except ValueError:
            return
        Noc.seen.append(msg)
        data = msg.get("data", {})
        inc = data.get("incident", {})
        cls = data.get("classification", {})
        what = msg.get("type", "?")
        detail = ""
        if what == "incident.serious_soon":
            detail = "serious in %s min if nothing changes (at %s JST)" % (
                data.get("lead_minutes", "?"),
                jst(cls["becomes_serious_at"]) if cls.get("becomes_serious_at") else "?")
        elif what == "incident.opened":
            detail = "%s users; serious at %s JST if nothing changes" % (
                "{:,}".format(inc.get("users") or sum(s.get("users", 0) for s in inc.get("services", []))),
                jst(cls["becomes_serious_at"]) if cls.get("becomes_serious_at") else "?")
        elif what == "incident.serious":
            detail = "重大な事故 (serious accident): prompt report due now, written report by %s" % (
                cls.get("due", {}).get("written", "?"))
        elif what == "incident.closed":
            detail = "recovered at %s JST" % (jst(inc["ended_at"]) if inc.get("ended_at") else "?")
        # where the replay is: wall seconds since the day began playing, at SPEED
        rec = SPLIT + timedelta(seconds=(time.monotonic() - Noc.t0) * SPEED) if Noc.t0 else None
        say("  ≈%s on the recording  NOC webhook  %-22s %s" % (
            rec.strftime("%H:%M") if rec else "--:--", what, detail))

    def log_message(self, *args):
        pass


class Api:
    def __init__(self, base, token):
        self.base, self.token = base, token

    def call(self, method, path, body=None, ctype="application/json", token=True):
        req = urllib.request.Request(self.base + path, method=method,
                                     data=body.encode() if isinstance(body, str) else body)
        if token:
            req.add_header("Authorization", "Bearer " + self.token)
        if body is not None:
            req.add_header("Content-Type", ctype)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read().decode("utf-8", "replace"), r.headers
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace"), e.headers


def token(jiko, db, role, operator=None):
    args = [jiko, "token", "create", "--db", db, "--role", role]
    if operator:
        args += ["--operator", operator]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout.split()[0]


def split_recording(work):
    """The recording in two: before the outage's day, and the day."""
    cut = int(SPLIT.timestamp()) * 10**9
    quiet, day = os.path.join(work, "quiet.lp"), os.path.join(work, "day.lp")
    with open(REC, encoding="utf-8") as f, open(quiet, "w") as q, open(day, "w") as d:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            (q if int(line.rsplit(" ", 1)[1]) < cut else d).write(line)
    return quiet, day


def main():
    jiko, db = os.path.abspath(sys.argv[1]), sys.argv[2]
    batch = os.environ.get("DEMO_NONINTERACTIVE") == "1"
    work = tempfile.mkdtemp(prefix="jiko-demo-live-")
    failures = []

    def expect(cond, what):
        if not cond:
            failures.append(what)
            say("  !! " + what)
        return cond

    noc = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Noc)
    threading.Thread(target=noc.serve_forever, daemon=True).start()
    watches = open(os.path.join(ROOT, "examples", "pepabo.conf"), encoding="utf-8").read()
    watches = watches[watches.index("[watch"):]
    secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    conf = os.path.join(work, "jiko.conf")
    with open(conf, "w", encoding="utf-8") as f:
        f.write(watches + "\n[live]\nclock = samples      # the recording's clock: it plays at %dx\n"
                "\n[webhook noc]\noperator = %s\nurl = http://127.0.0.1:%d/hook\nsecret = %s\n"
                "events = incident.opened, incident.serious_soon, incident.serious, incident.closed\n"
                % (SPEED, OP, noc.server_address[1], secret))
    ingest = token(jiko, db, "ingest", OP)
    admin = token(jiko, db, "admin", OP)
    regulator = token(jiko, db, "regulator")
    ready = os.path.join(work, "ready")
    log = open(os.path.join(work, "serve.log"), "w")
    # port 0: any free port; the server writes its URL to the ready file
    srv = subprocess.Popen([jiko, "serve", "--db", db, "--config", conf, "--listen", "127.0.0.1:0",
                            "--ready-file", ready], stdout=log, stderr=log)
    for _ in range(400):
        if os.path.exists(ready) or srv.poll() is not None:
            break
        time.sleep(0.05)
    if not os.path.exists(ready):
        say(open(os.path.join(work, "serve.log")).read())
        return 1
    base = open(ready).read().strip()  # written whole (renamed into place) once listening
    api = Api(base, admin)
    say("jiko serve is up at %s: watches of examples/pepabo.conf, webhooks to the NOC" % base)

    quiet, day = split_recording(work)
    say("Replaying the four quiet days before the outage (the detector learns the usual level)...")
    subprocess.run([jiko, "replay", quiet, "--to", base, "--token", ingest, "--speed", "0",
                    "--as-recorded", "--quiet"], check=True)
    say("Replaying 2021-08-03 14:00-20:00 JST at %dx real time (%d s); the engine counts down on "
        "the recording's clock:" % (SPEED, 6 * 3600 // SPEED))
    Noc.t0 = time.monotonic()
    subprocess.run([jiko, "replay", day, "--to", base, "--token", ingest, "--speed", str(SPEED),
                    "--as-recorded", "--quiet"], check=True)
    for _ in range(50):  # the last webhook is on its way
        if any(m.get("type") == "incident.closed" for m in Noc.seen):
            break
        time.sleep(0.1)
    types = [m.get("type") for m in Noc.seen]
    expect("incident.opened" in types, "the NOC heard the incident open")
    expect("incident.serious_soon" in types, "the NOC heard the countdown's alarms")
    expect("incident.serious" in types, "the NOC heard it turn serious")
    expect("incident.closed" in types, "the NOC heard it close")

    st, body, _ = api.call("GET", "/api/v1/incidents?operator=%s&fy=2021&order=newest&limit=5"
                           % urllib.parse.quote(OP))
    live = [i for i in json.loads(body)["incidents"] if i["id"].startswith("live-")] if st == 200 else []
    if not expect(live, "the live incident is in the registry"):
        return finish(srv, work, failures, batch, base, admin, regulator)
    inc = live[0]
    path = "/api/v1/incidents/%s/%s" % (urllib.parse.quote(OP, safe=""),
                                        urllib.parse.quote(inc["id"], safe=""))
    say()
    say("The incident: %s — %s, %s JST to %s JST, %s users, report: %s" % (
        inc["id"], OP, jst(inc["started_at"]), jst(inc["ended_at"]) if inc["ended_at"] else "…",
        "{:,}".format(inc["users"]), inc["report"]))
    expect(inc["report"] == "serious", "the incident is a serious accident")

    say()
    say("Notices drafted from the incident and published (初報, 復旧報):")
    for kind in ("first", "recovery"):
        st, body, _ = api.call("GET", path + "/notices/draft?kind=%s&lang=ja" % kind)
        if not expect(st == 200, "a %s draft (HTTP %d: %s)" % (kind, st, body[:200])):
            continue
        d = json.loads(body)
        say("  --- %s: %s" % (kind, d["title"]))
        for line in d["body"].splitlines()[:8]:
            say("  | " + line)
        st, body, _ = api.call("POST", path + "/notices", json.dumps(d, ensure_ascii=False))
        expect(st == 201, "the %s notice published (HTTP %d: %s)" % (kind, st, body[:200]))
    status = "/status/" + urllib.parse.quote(OP, safe="")
    st, page, _ = api.call("GET", status, token=False)
    expect(st == 200 and "復旧" in page, "the status page shows the notices")
    st, feed, hdrs = api.call("GET", status + "/feed.atom", token=False)
    entries = len(re.findall(r"<entry[ >]", feed)) if st == 200 else 0
    expect(entries >= 2, "the Atom feed has an entry per notice (%d)" % entries)
    say()
    say("Status page: %s%s (%d notices in its Atom feed: %s%s/feed.atom)" % (
        base, status, entries, base, status))
    return finish(srv, work, failures, batch, base, admin, regulator)


def finish(srv, work, failures, batch, base, admin, regulator):
    if not batch and not failures:
        say()
        say("Open the dashboard: %s/" % base)
        say("  log in as the operator's duty officer (admin): %s" % admin)
        say("  or as the regulator (every operator, the yearly statistics): %s" % regulator)
        say("Ctrl-C stops the server.")
        try:  # Ctrl-C reaches the server too (one process group): it stops by itself
            while srv.poll() is None:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
    srv.send_signal(signal.SIGTERM)
    try:
        srv.wait(timeout=30)
    except subprocess.TimeoutExpired:
        srv.kill()
    say()
    if failures:
        say("demo: %d step(s) not seen: %s (server log: %s)" % (len(failures), "; ".join(failures),
                                                                 os.path.join(work, "serve.log")))
        return 1
    say("demo: the live story ran: detected, opened, counted down, serious, closed, notices "
        "published, status page and feed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
