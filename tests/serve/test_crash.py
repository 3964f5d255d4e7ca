#!/usr/bin/env python3
"""test_crash.py JIKO — no acknowledged write is lost when `jiko serve` dies.

Four client threads POST incidents as fast as the server answers: single
records (compact or pretty-printed) and JSON Lines batches of 2-5, new ids
and amendments of earlier ones, the same record again (unchanged), and now
and then a record that must be refused (invalid: 400; another operator's:
403; or such a line inside a batch).  At a random moment (seeded: the seed
is printed, JIKO_CRASH_SEED=N repeats a run) the server is killed with
SIGKILL; every write answered 2xx was recorded with the version it was
given.  The server is started again over the same registry and:

  - every record answered 2xx is stored as that version of its incident,
    the record as sent (value for value, from .../history);
  - nothing answered 4xx is stored (a refused record is in no version);
  - a batch that was in flight when the server died is stored whole or
    not at all (one transaction);
  - each incident's versions run 1..N, GET of the incident gives version N
    with the last record, and `jiko export` writes that same record;
  - SQLite: PRAGMA integrity_check is ok (the sqlite3 shell).

Several rounds (JIKO_CRASH_ROUNDS, default 6, within JIKO_CRASH_BUDGET_S
seconds a backend, default 60) over one registry, which accumulates: later
rounds amend the incidents of earlier ones.  Rounds alternate the thread
pool and one thread per connection.  Then a round ends with SIGTERM instead:
the server must exit 0 within its grace time and every 2xx is stored.

The same on PostgreSQL (scripts/pg-cluster.sh, a cluster under /tmp):
skipped when no cluster can be started, except under CI=true, where that
is a failure."""
import datetime
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jikoserve import ROOT, Checks, Server, examples, quote  # noqa: E402

JIKO = os.path.abspath(sys.argv[1])
CI = os.environ.get("CI") == "true"
SEED = int(os.environ.get("JIKO_CRASH_SEED") or random.SystemRandom().randrange(1, 1 << 31))
ROUNDS = int(os.environ.get("JIKO_CRASH_ROUNDS", "6"))
BUDGET_S = float(os.environ.get("JIKO_CRASH_BUDGET_S", "25"))
WRITERS = 4
JST = datetime.timezone(datetime.timedelta(hours=9))
check = Checks()


# ---- records ----

def bases():
    """One example record for each of the writers' operators."""
    seen, out = set(), []
    for r in examples():
        if r["operator"] not in seen:
            seen.add(r["operator"])
            out.append(r)
    return out[:WRITERS]


def make(base, rid, tag, rng):
    """A valid record of base's operator (docs/incident-format.md): the
    tag in its summary makes every record sent unique."""
    r = json.loads(json.dumps(base))
    r["id"] = rid
    users = rng.randrange(1, 2000000)
    for s in r["services"]:
        s["users"] = users
    r["users"] = users
    start = datetime.datetime(2021, 4, 1, tzinfo=JST) + datetime.timedelta(
        minutes=rng.randrange(365 * 24 * 60))
    r["started_at"] = start.isoformat()
    r["ended_at"] = None if rng.random() < 0.1 else (
        start + datetime.timedelta(minutes=rng.randrange(1, 3000))).isoformat()
    r["summary"] = "crash test write %s" % tag
    return r


def invalid(rec, rng):
    """A record that the intake refuses (400)."""
    r = json.loads(json.dumps(rec))
    how = rng.randrange(4)
    if how == 0:
        r["services"][0]["service"] = "no_such_service"
    elif how == 1:
        r["started_at"] = "2021-13-40T25:00:00+09:00"
    elif how == 2:
        r["users"] = "many"
    else:
        del r["started_at"]
    return r


# ---- the writers ----

class Write:
    """One request: its lines (op, id, record, expected: ok/400/403, kind:
    new/amend/same/invalid/other), and what came back (status and answer,
    or the exception)."""

    def __init__(self, kind, lines):
        self.kind = kind
        self.lines = lines
        self.status = None
        self.answer = None
        self.error = None
        self.t_answer = None
        self.results = {}  # line number -> (version or None, error code or None)


class Writer(threading.Thread):
    def __init__(self, n, port, token, base, other, known, seed, tag, stopping):
        super().__init__(daemon=True)
        self.n, self.port, self.token = n, port, token
        self.base, self.other = base, other
        self.known = known        # id -> the current record, exactly known
        self.rng = random.Random(seed)
        self.tag = tag
        self.stopping = stopping  # set just before the server is killed
        self.writes = []
        self.acked = 0
        self.early_error = None
        self.seq = 0

    def fresh_id(self):
        self.seq += 1
        return "%s-t%d-%d" % (self.tag, self.n, self.seq)

    def line(self, kind):
        """One record to send: (op, id, record, expected, kind)."""
        rng, op = self.rng, self.base["operator"]
        self.seq += 1
        tag = "%s-t%d-w%d" % (self.tag, self.n, self.seq)
        if kind == "new" or (kind in ("amend", "same") and not self.known):
            rid = self.fresh_id()
            return (op, rid, make(self.base, rid, tag, rng), "ok", "new")
        if kind == "amend":
            rid = rng.choice(list(self.known))
            r = json.loads(json.dumps(self.known[rid]))
            r["summary"] = "crash test write %s" % tag
            users = rng.randrange(1, 2000000)
            for sv in r["services"]:
                sv["users"] = users
            r["users"] = users
            return (op, rid, r, "ok", "amend")
        if kind == "same":
            rid = rng.choice(list(self.known))
            return (op, rid, self.known[rid], "ok", "same")
        if kind == "invalid":
            rid = self.fresh_id()
            return (op, rid, invalid(make(self.base, rid, tag, rng), rng), "400", "invalid")
        # another operator's record with this operator's token
        rid = self.fresh_id()
        return (self.other["operator"], rid, make(self.other, rid, tag, rng), "403", "other")

    def next_write(self):
        x = self.rng.random()
        if x < 0.30:
            return Write("single", [self.line("new")])
        if x < 0.55:
            return Write("single", [self.line("amend")])
        if x < 0.60:
            return Write("single", [self.line("same")])
        if x < 0.64:
            return Write("single", [self.line("invalid")])
        if x < 0.67:
            return Write("single", [self.line("other")])
        lines, ids = [], set()
        for _ in range(self.rng.randrange(2, 6)):
            kind = self.rng.choice(["new", "new", "amend", "amend", "same"])
            ln = self.line(kind)
            if ln[1] in ids:
                ln = self.line("new")
            ids.add(ln[1])
            lines.append(ln)
        if self.rng.random() < 0.25:
            lines.insert(self.rng.randrange(len(lines) + 1),
                         self.line(self.rng.choice(["invalid", "other"])))
        return Write("batch", lines)

    def send(self, conn, w):
        if w.kind == "single":
            rec = w.lines[0][2]
            body = json.dumps(rec, ensure_ascii=False, indent=2 if self.rng.random() < 0.3 else None)
            ctype = "application/json"
        else:
            body = "".join(json.dumps(ln[2], ensure_ascii=False) + "\n" for ln in w.lines)
            ctype = "application/x-ndjson"
        conn.request("POST", "/api/v1/incidents", body=body.encode(),
                     headers={"Authorization": "Bearer " + self.token, "Content-Type": ctype})
        r = conn.getresponse()
        data = r.read()
        w.status = r.status
        w.t_answer = time.time()
        try:
            w.answer = json.loads(data)
        except ValueError:
            w.answer = None

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        while True:
            w = self.next_write()
            self.writes.append(w)
            try:
                self.send(conn, w)
            except (OSError, http.client.HTTPException) as e:
                w.error = "%s: %s" % (type(e).__name__, e)
                if not self.stopping.is_set():
                    self.early_error = w.error
                conn.close()
                return
            read_results(w)
            if 200 <= w.status < 300:
                self.acked += 1
                for i, (op, rid, rec, want, kind) in enumerate(w.lines):
                    if w.results.get(i + 1, (None, None))[0] is not None:
                        self.known[rid] = rec


def read_results(w):
    """w.results: line -> (version, None) for a stored record, (None, code)
    for a refused one."""
    a = w.answer if isinstance(w.answer, dict) else {}
    if w.kind == "single":
        if 200 <= w.status < 300:
            w.results[1] = (a.get("version"), None)
        else:
            w.results[1] = (None, (a.get("error") or {}).get("code", str(w.status)))
        return
    if isinstance(a.get("results"), list):
        for x in a["results"]:
            if "error" in x:
                w.results[x["error"].get("line", x.get("line"))] = (None, x["error"].get("code"))
            else:
                w.results[x.get("line")] = (x.get("version"), None)
    elif not 200 <= w.status < 300:
        for i in range(len(w.lines)):
            w.results[i + 1] = (None, str(w.status))


# ---- reading the registry back ----

def get_json(conn, path, token):
    conn.request("GET", path, headers={"Authorization": "Bearer " + token})
    r = conn.getresponse()
    data = r.read()
    return r.status, (json.loads(data) if data else None)


def histories(port, token, keys, rng):
    """(op, id) -> [record of version 1, 2, ...] or None when not stored;
    and the keys whose chain is wrong, or whose current version (GET of the
    incident, for a sample of 100) is not the last."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    out, bad = {}, []
    keys = sorted(keys)
    sample = set(rng.sample(keys, min(100, len(keys))))
    for op, rid in keys:
        p = "/api/v1/incidents/%s/%s" % (quote(op), quote(rid))
        st, body = get_json(conn, p + "/history", token)
        if st == 404:
            out[(op, rid)] = None
            continue
        if st != 200:
            bad.append("%s/%s: history %d %s" % (op, rid, st, body))
            continue
        vs = body["versions"]
        out[(op, rid)] = [v["record"] for v in vs]
        if [v["version"] for v in vs] != list(range(1, len(vs) + 1)):
            bad.append("%s/%s: versions %s" % (op, rid, [v["version"] for v in vs]))
        if (op, rid) not in sample:
            continue
        st, cur = get_json(conn, p, token)
        if st != 200 or cur["incident"]["version"] != len(vs) or \
                cur["incident"]["record"] != vs[-1]["record"]:
            bad.append("%s/%s: current %d v%s, history has %d versions" % (
                op, rid, st, cur and cur.get("incident", {}).get("version"), len(vs)))
    conn.close()
    return out, bad


def export(db):
    out = subprocess.run([JIKO, "export", "--db", db], capture_output=True)
    if out.returncode != 0:
        return None, out.stderr.decode(errors="replace")
    recs = {}
    for line in out.stdout.decode().splitlines():
        r = json.loads(line)
        recs[(r["operator"], r["id"])] = r
    return recs, ""


def integrity(db):
    out = subprocess.run(["sqlite3", db, "PRAGMA integrity_check"], capture_output=True,
                         text=True)
    return out.stdout.strip() if out.returncode == 0 else "sqlite3 exit %d: %s" % (
        out.returncode, out.stderr.strip())


# ---- one round ----

class Backend:
    def __init__(self, name, srv):
        self.name = name
        self.srv = srv
        self.bases = bases()
        self.tokens = None
        self.reader = None
        self.known = [dict() for _ in range(WRITERS)]
        self.totals = {"rounds": 0, "writes": 0, "acked_writes": 0, "acked_records": 0,
                       "refused": 0, "in_flight": 0, "in_flight_stored": 0, "lost": 0,
                       "term_cut_stored": 0}

    def start(self, threads):
        self.srv.threads = threads
        self.srv.start()
        if self.tokens is None:
            self.tokens = [self.srv.token("admin", b["operator"]) for b in self.bases]
            self.reader = self.srv.token("regulator")


def run_round(be, rnd, rng, how):
    srv = be.srv
    tag = "s%d-%s-r%d" % (SEED, be.name, rnd)
    stopping = threading.Event()
    ws = [Writer(i, srv.port, be.tokens[i], be.bases[i], be.bases[(i + 1) % WRITERS],
                 be.known[i], rng.randrange(1 << 30), tag, stopping) for i in range(WRITERS)]
    delay = rng.uniform(0.1, 1.5)
    t0 = time.time()
    for w in ws:
        w.start()
    # writes flowing: some acknowledged, then the random moment
    while sum(w.acked for w in ws) < 20 and time.time() - t0 < 30 and \
            not any(w.early_error for w in ws):
        time.sleep(0.01)
    time.sleep(delay)
    acked_at_signal = sum(w.acked for w in ws)
    stopping.set()
    rc, took, t_signal = None, None, time.time()
    if how == "kill":
        srv.proc.kill()
        srv.proc.wait()
        srv.proc = None
    else:
        ts = time.time()
        try:
            rc = srv.stop(signal.SIGTERM, timeout=30)
        except RuntimeError as e:
            rc = str(e)
        took = time.time() - ts
    for w in ws:
        w.join(60)
    hung = [w.n for w in ws if w.is_alive()]
    writes = [x for w in ws for x in w.writes]
    print("# %s round %d: %s after %.2f s (+%.2f s random), %d writes sent, %d acknowledged "
          "when signalled" % (be.name, rnd, "SIGKILL" if how == "kill" else "SIGTERM",
                              time.time() - t0, delay, len(writes), acked_at_signal))
    check(not hung, "%s round %d: every client thread ended (hung: %s)" % (be.name, rnd, hung))
    early = [w.early_error for w in ws if w.early_error]
    check(not early, "%s round %d: no connection error before the signal (%s)" % (
        be.name, rnd, early[:2]))
    if how == "term":
        check(rc == 0 and took < srv_grace() + 5,
              "%s round %d: SIGTERM during writes: exit %s in %.2f s" % (be.name, rnd, rc, took))
    t1 = time.time()
    be.start(None if rnd % 2 == 0 else 0)
    t2 = time.time()
    in_flight, cut = verify(be, rnd, ws, writes, how)
    print("# %s round %d: restarted in %.2f s, checked in %.2f s" % (be.name, rnd, t2 - t1,
                                                                     time.time() - t2))
    if how == "term":
        after = sum(1 for x in writes if x.t_answer and x.t_answer > t_signal)
        errors = sorted({x.error.split(":")[0] for x in writes if x.error})
        print("# %s round %d: after SIGTERM the server answered %d more writes on open "
              "connections before it exited; the clients' last requests ended in %s; %d of "
              "those %d unanswered writes were stored" % (be.name, rnd, after, errors, cut,
                                                         in_flight))
        be.totals["term_cut_stored"] += cut
        # SIGTERM drains: a request in progress is answered before the
        # connections close, so none is stored without its answer
        check(cut == 0, "%s round %d: SIGTERM left no stored write unanswered (%d)" % (
            be.name, rnd, cut))


def srv_grace():
    return 10  # serve_conf's shutdown_grace_s default


def verify(be, rnd, ws, writes, how):
    keys = {ln[:2] for x in writes for ln in x.lines}
    tv = time.time()
    hist, bad = histories(be.srv.port, be.reader, keys, random.Random(rnd))
    tv = [time.time() - tv]
    check(not bad, "%s round %d: %d incidents: versions 1..N, current = last (%s)" % (
        be.name, rnd, len(keys), bad[:3]))
    lost, stored_refused, unexpected = [], [], []
    acked_w = acked_r = refused = 0
    in_flight, in_flight_stored, torn = 0, 0, []
    for x in writes:
        answered = x.status is not None
        if answered and x.status == 503 and (x.answer or {}).get("error", {}).get("code") == "shutting_down":
            # refused whole after SIGTERM, before any work: none of it stored
            for op, rid, rec, want, kind in x.lines:
                refused += 1
                if kind in ("new", "amend") and rec in (hist.get((op, rid)) or []):
                    stored_refused.append("%s/%s (refused: shutting down)" % (op, rid))
            continue
        if answered and not 200 <= x.status < 300 and x.status not in (400, 403):
            unexpected.append("%s %d %s" % (x.kind, x.status, x.answer))
        if answered and 200 <= x.status < 300:
            acked_w += 1
        present = 0
        for i, (op, rid, rec, want, kind) in enumerate(x.lines):
            h = hist.get((op, rid)) or []
            if not answered:
                present += kind in ("new", "amend") and rec in h
                continue
            version, code = x.results.get(i + 1, (None, None))
            if want == "ok" and version is None:
                unexpected.append("%s line %d (%s/%s): refused %s" % (x.kind, i + 1, op, rid, code))
            if want != "ok" and (version is not None or code != {"400": "invalid",
                                                                   "403": "forbidden"}[want]):
                unexpected.append("%s line %d (%s/%s): want %s, got v%s %s" % (
                    x.kind, i + 1, op, rid, want, version, code))
            if version is not None:
                acked_r += 1
                if not (len(h) >= version and h[version - 1] == rec):
                    lost.append("%s/%s v%d (%d versions stored)" % (op, rid, version, len(h)))
            else:
                refused += 1
                if rec in h or (want != "ok" and hist.get((op, rid)) is not None):
                    stored_refused.append("%s/%s" % (op, rid))
        if not answered:
            in_flight += 1
            in_flight_stored += present > 0
            valid = sum(1 for ln in x.lines if ln[4] in ("new", "amend"))
            if present not in (0, valid):
                torn.append("%d of %d records" % (present, valid))
    check(not lost, "%s round %d: all %d records of %d writes answered 2xx are stored as answered "
          "(lost: %s)" % (be.name, rnd, acked_r, acked_w, lost[:5]))
    check(not stored_refused, "%s round %d: none of %d refused records is stored (%s)" % (
        be.name, rnd, refused, stored_refused[:5]))
    check(not unexpected, "%s round %d: every answer as expected (%s)" % (
        be.name, rnd, unexpected[:3]))
    check(not torn, "%s round %d: the %d writes in flight are stored whole or not at all (%d "
          "stored; torn: %s)" % (be.name, rnd, in_flight, in_flight_stored, torn))
    te = time.time()
    recs, err = export(be.srv.db)
    tv.append(time.time() - te)
    if check(recs is not None, "%s round %d: jiko export reads the registry %s" % (
            be.name, rnd, err[:200])):
        diff = [k for k, h in hist.items() if h and recs.get(k) != h[-1]]
        check(not diff, "%s round %d: jiko export gives each incident's last version (%s)" % (
            be.name, rnd, diff[:3]))
    if not be.srv.db.startswith("postgresql:"):
        te = time.time()
        res = integrity(be.srv.db)
        tv.append(time.time() - te)
        check(res == "ok", "%s round %d: PRAGMA integrity_check: %s" % (be.name, rnd, res[:200]))
    print("# %s round %d: %d histories read in %.2f s, export %.2f s%s" % (
        be.name, rnd, len(keys), tv[0], tv[1], ", integrity_check %.2f s" % tv[2]
        if len(tv) > 2 else ""))
    # what the writers know for the next round: the stored current records
    # (each writer alone writes its operator's incidents)
    for i, b in enumerate(be.bases):
        for (op, rid), h in hist.items():
            if op == b["operator"]:
                if h:
                    be.known[i][rid] = h[-1]
                else:
                    be.known[i].pop(rid, None)
    t = be.totals
    t["rounds"] += 1
    t["writes"] += len(writes)
    t["acked_writes"] += acked_w
    t["acked_records"] += acked_r
    t["refused"] += refused
    t["in_flight"] += in_flight
    t["in_flight_stored"] += in_flight_stored
    t["lost"] += len(lost)
    return in_flight, in_flight_stored


def campaign(be, rng):
    t0 = time.time()
    be.start(None)
    try:
        rnd = 0
        while rnd < ROUNDS and (rnd < 2 or time.time() - t0 < BUDGET_S):
            rnd += 1
            run_round(be, rnd, rng, "kill")
        rnd += 1
        run_round(be, rnd, rng, "term")
    finally:
        rc = be.srv.stop()
        check(rc == 0, "%s: clean exit at the end (%s)" % (be.name, rc))
    if not be.srv.db.startswith("postgresql:"):
        res = integrity(be.srv.db)
        check(res == "ok", "%s: PRAGMA integrity_check after the last stop: %s" % (be.name, res))
    t = be.totals
    print("# %s: %d rounds in %.1f s: %d writes sent, %d answered 2xx (%d records), %d records "
          "refused, %d in flight at the signal (%d of them stored; after SIGTERM: %d), %d lost" % (
              be.name, t["rounds"], time.time() - t0, t["writes"], t["acked_writes"],
              t["acked_records"], t["refused"], t["in_flight"], t["in_flight_stored"],
              t["term_cut_stored"], t["lost"]))


def pg_available():
    return bool([d for d in (os.listdir("/usr/lib/postgresql") if os.path.isdir(
        "/usr/lib/postgresql") else []) if os.path.exists("/usr/lib/postgresql/%s/bin/initdb" % d)])


def main():
    print("# seed %d (JIKO_CRASH_SEED=%d repeats this run)" % (SEED, SEED))
    conf = "rate = 0\n"
    rng = random.Random(SEED)
    work = tempfile.mkdtemp(prefix="jiko-crash-")
    try:
        os.makedirs(os.path.join(work, "sq"))
        campaign(Backend("sqlite", Server(JIKO, conf=conf, workdir=os.path.join(work, "sq"))),
                 rng)
        pgdir = tempfile.mkdtemp(prefix="jiko-crash-pg-", dir="/tmp")
        url = None
        if pg_available():
            out = subprocess.run(["bash", os.path.join(ROOT, "scripts", "pg-cluster.sh"),
                                  "start", pgdir], capture_output=True, text=True)
            url = out.stdout.strip() if out.returncode == 0 else None
            if not url:
                print("# pg-cluster.sh: " + out.stderr.strip()[-500:])
        if url:
            try:
                os.makedirs(os.path.join(work, "pg"))
                campaign(Backend("postgresql", Server(JIKO, db=url, conf=conf,
                                                      workdir=os.path.join(work, "pg"))), rng)
            finally:
                subprocess.run(["bash", os.path.join(ROOT, "scripts", "pg-cluster.sh"), "stop",
                                pgdir], capture_output=True)
        elif CI:
            check(False, "PostgreSQL: a cluster could be started (CI=true: no skip)")
        else:
            print("skip PostgreSQL: no cluster could be started")
            shutil.rmtree(pgdir, ignore_errors=True)
    finally:
        if not check.failed:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("# kept for inspection: " + work)
    print("%d checks, %d failure(s) (seed %d)" % (check.n, check.failed, SEED))
    return 1 if check.failed else 0


if __name__ == "__main__":
    sys.exit(main())
