#!/usr/bin/env python3
"""test_replay.py JIKO — `jiko replay` into a real `jiko serve`.

  - examples/pepabo-2021-08-03.lp (a recording modelled on GMO Pepabo's
    2021-08-03 outage) replayed --as-recorded into a server with the watches
    of examples/pepabo.conf and `[live] clock = samples`: the incident must
    open from the connection surge before the outage began (15:00 JST), be
    serious, count the mail users once (456,516: two watches of one
    population), and close at the recovery (17:25 JST);
  - the same file replayed as if now (--speed 0): its times shifted so that
    the recording ends now;
  - a CSV with --metric and --label; a file with bad lines (each reported
    with its line, the rest sent, exit 1); no --to (exit 2); an unreachable
    server and a token the server refuses (exit 4)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jikoserve import ROOT, Checks, Server, free_port, quote  # noqa: E402

JIKO = os.path.abspath(sys.argv[1])
check = Checks()
OP = "GMOペパボ株式会社"
JST = timezone(timedelta(hours=9))
REC = os.path.join(ROOT, "examples", "pepabo-2021-08-03.lp")


def watches():
    text = open(os.path.join(ROOT, "examples", "pepabo.conf"), encoding="utf-8").read()
    return text[text.index("[watch"):]


def replay(*args):
    p = subprocess.run([JIKO, "replay", *args], capture_output=True, text=True, timeout=300)
    return p.returncode, p.stderr


def incidents(srv, tok):
    st, _, body = srv.json("GET", "/api/v1/incidents?operator=" + quote(OP), token=tok)
    assert st == 200, (st, body)
    return body["incidents"]


def as_recorded(work):
    srv = Server(JIKO, conf=watches() + "[live]\nclock = samples\n",
                 workdir=os.path.join(work, "rec")).start()
    ing, reg = srv.token("ingest", OP), srv.token("regulator")
    rc, err = replay(REC, "--to", "http://127.0.0.1:%d" % srv.port, "--token", ing, "--speed", "0",
                     "--as-recorded")
    check(rc == 0, "replay --as-recorded: exit 0 (%d %s)" % (rc, err[-300:]))
    got = incidents(srv, reg)
    check(len(got) == 1, "one incident (%d)" % len(got))
    if got:
        i = got[0]
        started = datetime.fromisoformat(i["started_at"])
        check(datetime(2021, 8, 3, 14, 30, tzinfo=JST) <= started < datetime(2021, 8, 3, 15, 0, tzinfo=JST),
              "opened from the surge before the outage (15:00): %s" % i["started_at"])
        check(i["ended_at"] == "2021-08-03T17:25:00+09:00", "closed at the recovery: %s" % i["ended_at"])
        check(i["report"] == "serious", "serious (%s)" % i["report"])
        check(i["users"] == 456516, "the mail users counted once: %s" % i["users"])
        st, _, hist = srv.json("GET", "/api/v1/incidents/%s/%s/history" % (quote(OP), quote(i["id"])),
                               token=reg)
        reasons = " | ".join(v["reason"] for v in hist["versions"])
        check("opened by watch pop-connections" in reasons and "closed: normal again from 2021-08-03T17:25"
              in reasons, "history says why: %s" % reasons)
    check(srv.stop() == 0, "server stopped cleanly")


def as_now(work):
    srv = Server(JIKO, conf=watches(), workdir=os.path.join(work, "now")).start()
    ing, reg = srv.token("ingest", OP), srv.token("regulator")
    before = datetime.now(timezone.utc)
    rc, err = replay(REC, "--to", "http://127.0.0.1:%d" % srv.port, "--token", ing, "--speed", "0")
    check(rc == 0, "replay as now: exit 0 (%d)" % rc)
    got = incidents(srv, reg)
    if check(len(got) == 1, "one incident (%d)" % len(got)):
        # the recording ends at 20:00 JST: the surge began 5 h 18 min before its end
        started = datetime.fromisoformat(got[0]["started_at"])
        want = before - timedelta(hours=5, minutes=18)
        check(abs((started - want).total_seconds()) < 120,
              "shifted to end now: started %s, about %s" % (got[0]["started_at"], want.isoformat()))
    check(srv.stop() == 0, "server stopped cleanly")


def bad_inputs(work):
    srv = Server(JIKO, conf=watches(), workdir=os.path.join(work, "bad")).start()
    ing, adm = srv.token("ingest", OP), srv.token("admin", OP)
    url = "http://127.0.0.1:%d" % srv.port
    lp = os.path.join(work, "bad.lp")
    with open(lp, "w") as f:
        f.write("# a comment\n"
                "kpi,site=a value=1 1627970400000000000\n"
                "kpi,site=a value= 1627970460000000000\n"
                "kpi,site=a value=3\n"
                "kpi,site=a value=4 1627970520000000000\n")
    rc, err = replay(lp, "--to", url, "--token", ing, "--speed", "0", "--quiet")
    check(rc == 1, "bad lines: exit 1 (%d)" % rc)
    check("bad.lp:3:" in err and "bad.lp:4:" in err and "timestamp" in err,
          "each bad line named with its line: %s" % err.strip().replace("\n", " | "))
    st, _, text = srv.request("GET", "/metrics")
    samples = [l for l in text.decode().splitlines() if l.startswith('jiko_live_samples_total{watched="false"}')]
    check(samples and samples[0].endswith(" 2"), "the two good lines were sent: %s" % samples)
    csv = os.path.join(work, "dns.csv")
    with open(csv, "w") as f:
        f.write("timestamp,value\n2021-08-03T15:00:00+09:00,0.5\n2021-08-03T15:01:00+09:00,x\n"
                "2021-08-03T15:02:00+09:00,0.7\n")
    rc, err = replay(csv, "--metric", "dns_failure_ratio", "--label", "site=tokyo", "--to", url,
                     "--token", ing, "--speed", "0", "--quiet")
    check(rc == 1 and "dns.csv:3" in err, "csv: the bad row named, the rest sent (%d %s)" % (rc, err.strip()))
    rc, err = replay(csv, "--token", ing)
    check(rc == 2 and "--to" in err, "no --to: exit 2 (%d)" % rc)
    rc, err = replay(lp + ".missing", "--to", url, "--token", ing)
    check(rc == 4, "a missing file: exit 4 (%d)" % rc)
    rc, err = replay(csv, "--to", url, "--token", adm, "--speed", "0", "--quiet")
    check(rc == 4 and "403" in err, "a token the server refuses: exit 4 with its answer (%d %s)" % (rc, err.strip()[:200]))
    check(srv.stop() == 0, "server stopped cleanly")
    rc, err = replay(csv, "--to", "http://127.0.0.1:%d" % free_port(), "--token", ing, "--speed", "0", "--quiet")
    check(rc == 4, "an unreachable server: exit 4 after retries (%d)" % rc)


def main():
    work = tempfile.mkdtemp(prefix="jiko-replay-")
    for d in ("rec", "now", "bad"):
        os.makedirs(os.path.join(work, d))
    as_recorded(work)
    as_now(work)
    bad_inputs(work)
    print("test_replay: %d checks, %d failed" % (check.n, check.failed))
    if check.failed:
        sys.exit(1)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
