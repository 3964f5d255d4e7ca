#!/usr/bin/env python3
"""test_api.py JIKO — `jiko serve` end to end on loopback: every endpoint with
good input, at least 60 bad requests each with its expected status and error
code, the walk of every endpoint with every role against two operators, the
limits (body size, rate, admission, slow clients) and the agreement of the
API's answers with the command line's output."""
import json
import os
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jikoserve import Checks, Server, examples, quote, raw, status_of  # noqa: E402

JIKO = os.path.abspath(sys.argv[1])
check = Checks()


A = "株式会社エー通信"          # operators: a Japanese name, and one with a slash
B = "B Telecom/West"


def record(op, rid, users=456516, ended="2021-08-03T17:25:00+09:00", svc="email_paid"):
    return {"id": rid, "operator": op, "started_at": "2021-08-03T15:00:00+09:00",
            "ended_at": ended, "services": [{"service": svc, "effect": "stop", "users": users}],
            "equipment": "application_server"}


def main():
    srv = Server(JIKO, conf="connection_timeout_s = 2\nmax_body_bytes = 65536\nrate = 0\n")
    srv.start()
    tok = {
        ("admin", A): srv.token("admin", A), ("viewer", A): srv.token("viewer", A),
        ("ingest", A): srv.token("ingest", A), ("admin", B): srv.token("admin", B),
        ("viewer", B): srv.token("viewer", B), ("regulator", None): srv.token("regulator"),
    }
    revoked = srv.token("admin", A, note="to be revoked")
    listing = subprocess.run([JIKO, "token", "list", "--json", "--db", srv.db], check=True,
                             capture_output=True, text=True).stdout
    rid = [json.loads(l)["id"] for l in listing.splitlines() if "to be revoked" in l][0]
    srv.revoke(rid)
    adm, reg = tok[("admin", A)], tok[("regulator", None)]
    try:
        good(srv, tok, adm, reg)
        bad(srv, tok, adm, reg, revoked)
        walk(srv, tok)
        agreement(srv, reg)
        slow_clients(srv)
    finally:
        rc = srv.stop()
        check(rc == 0, "SIGTERM: clean exit (%s)" % rc)
    limits()
    print("%d checks, %d failure(s)" % (check.n, check.failed))
    return 1 if check.failed else 0


def good(srv, tok, adm, reg):
    st, _, body = srv.json("GET", "/healthz")
    check(st == 200 and body == {"status": "ok"}, "GET /healthz")
    # one incident: new 201, same again 200 unchanged, changed 200 amended
    r = record(A, "a-1")
    st, h, body = srv.json("POST", "/api/v1/incidents", json.dumps(r, ensure_ascii=False), adm)
    check(st == 201 and body["report"] == "serious" and body["version"] == 1
          and body["outcome"] == "stored", "POST one incident: 201 stored, version 1 (%d)" % st)
    st, _, body = srv.json("POST", "/api/v1/incidents", json.dumps(r, indent=2), adm)
    check(st == 200 and body["version"] == 1 and body["outcome"] == "unchanged",
          "POST the same (pretty-printed): 200 unchanged")
    r["services"][0]["users"] = 9000
    st, _, body = srv.json("POST", "/api/v1/incidents", json.dumps(r), adm)
    check(st == 200 and body["version"] == 2 and body["outcome"] == "amended"
          and body["report"] == "detailed", "POST changed: 200 amended, version 2, now detailed")
    # JSON Lines with a bad line in the middle: the rest stored
    lines = [json.dumps(record(A, "a-%d" % i, users=1000 * i)) for i in range(2, 7)]
    lines.insert(2, '{"id": "broken", "operator": "%s"' % A)
    st, _, body = srv.json("POST", "/api/v1/incidents", "\n".join(lines) + "\n", adm,
                           ctype="application/x-ndjson")
    check(st == 200 and body["stored"] == 5 and body["rejected"] == 1
          and body["results"][2]["error"]["line"] == 3 and body["results"][3]["line"] == 4,
          "POST JSON Lines: 5 stored, line 3 rejected with its line")
    # an ongoing incident, as of a given now: when it turns serious
    ongoing = record(A, "a-live", ended=None)
    srv.json("POST", "/api/v1/incidents", json.dumps(ongoing), adm)
    st, _, body = srv.json("GET", "/api/v1/incidents/%s/a-live?now=2021-08-03T16:15:00%%2B09:00"
                           % quote(A), token=adm)
    check(st == 200 and body["classification"]["becomes_serious_at"] == "2021-08-03T17:00:00+09:00"
          and body["incident"]["record"]["id"] == "a-live",
          "GET ongoing incident: becomes_serious_at 17:00 as of 16:15")
    st, _, body = srv.json("GET", "/api/v1/incidents/%s/a-1/history" % quote(A), token=adm)
    check(st == 200 and [v["version"] for v in body["versions"]] == [1, 2],
          "GET history: versions 1 and 2")
    # paging: limit 2 through everything gives the unpaged list
    st, _, full = srv.json("GET", "/api/v1/incidents?limit=1000", token=adm)
    ids, cursor, pages = [], None, 0
    while True:
        q = "/api/v1/incidents?limit=2" + ("&cursor=" + cursor if cursor else "")
        st, _, page = srv.json("GET", q, token=adm)
        pages += 1
        ids += [x["id"] for x in page["incidents"]]
        cursor = page["next_cursor"]
        if not cursor or pages > 20:
            break
    check(ids == [x["id"] for x in full["incidents"]] and len(ids) == 7 and pages == 4,
          "GET list paged by 2: %d pages give the same %d incidents" % (pages, len(ids)))
    st, _, body = srv.json("GET", "/api/v1/incidents?fy=2021&quarter=2&report=detailed", token=reg)
    got = body["incidents"]
    st2, _, every = srv.json("GET", "/api/v1/incidents?limit=1000", token=reg)
    want = [x["id"] for x in every["incidents"] if x["report"] == "detailed"
            and x["fiscal_year"] == 2021 and x["quarter"] == 2]
    check(st == 200 and [x["id"] for x in got] == want and "a-1" in want,
          "GET filtered list: fy, quarter, report (%d of %d)" % (len(want), len(every["incidents"])))
    st, _, body = srv.json("GET", "/api/v1/incidents?open=true", token=adm)
    check(st == 200 and [x["id"] for x in body["incidents"]] == ["a-live"], "GET open=true")
    # classify without storing
    ex = examples()
    st, _, body = srv.json("POST", "/api/v1/classify?lang=ja", json.dumps(ex[1], ensure_ascii=False),
                           adm)
    check(st == 200 and body["report"] == "serious" and body["id"] == ex[1]["id"],
          "POST classify one record")
    st, _, body = srv.json("GET", "/api/v1/incidents/%s/%s" % (quote(ex[1]["operator"]), ex[1]["id"]),
                           token=reg)
    check(st == 404, "classify stored nothing")
    st, _, body = srv.json("GET", "/api/v1/rules", token=reg)
    check(st == 200 and "jp-2019" in [b["id"] for b in body["rulebooks"]], "GET rules")
    st, _, body = srv.json("GET", "/api/v1/rules/jp-2019", token=tok[("viewer", B)])
    check(st == 200 and body["id"] == "jp-2019", "GET rules/jp-2019")
    st, h, data = srv.request("HEAD", "/api/v1/rules", token=reg)
    check(st == 200 and data == b"", "HEAD rules: no body")
    st, h, data = srv.request("GET", "/metrics")
    text = data.decode()
    check(st == 200 and h["content-type"].startswith("text/plain; version=0.0.4")
          and 'jiko_http_requests_total{route="/api/v1/incidents",status="201"}' in text
          and "jiko_open_incidents 1" in text and "jiko_http_inflight_requests" in text,
          "GET /metrics: requests by route and status, open incidents")


# (method, path, token key, body, content type, status, code)
def bad(srv, tok, adm, reg, revoked):
    a, b = quote(A), quote(B)
    vA, iA, aB = tok[("viewer", A)], tok[("ingest", A)], tok[("admin", B)]
    valid = json.dumps(record(A, "bad-x"))
    cases = [
        # 401
        ("GET", "/api/v1/incidents", None, None, None, 401, "unauthorized"),
        ("GET", "/api/v1/rules", "", None, None, 401, "unauthorized"),
        ("GET", "/api/v1/rules", "jiko_notatoken", None, None, 401, "unauthorized"),
        ("GET", "/api/v1/rules", revoked, None, None, 401, "unauthorized"),
        ("GET", "/api/v1/rules", adm + "x", None, None, 401, "unauthorized"),
        ("POST", "/api/v1/incidents", revoked, valid, None, 401, "unauthorized"),
        ("GET", "/api/v1/rules", "x" * 5000, None, None, 401, "unauthorized"),
        # 403: roles
        ("POST", "/api/v1/incidents", vA, valid, None, 403, "forbidden"),
        ("POST", "/api/v1/incidents", reg, valid, None, 403, "forbidden"),
        ("GET", "/api/v1/incidents", iA, None, None, 403, "forbidden"),
        ("GET", "/api/v1/rules", iA, None, None, 403, "forbidden"),
        ("POST", "/api/v1/classify", iA, valid, None, 403, "forbidden"),
        # 403: the other operator
        ("GET", "/api/v1/incidents/%s/a-1" % a, aB, None, None, 403, "forbidden"),
        ("GET", "/api/v1/incidents/%s/a-1/history" % a, aB, None, None, 403, "forbidden"),
        ("GET", "/api/v1/incidents?operator=%s" % a, aB, None, None, 403, "forbidden"),
        ("POST", "/api/v1/incidents", aB, valid, None, 403, "forbidden"),
        ("GET", "/api/v1/reports/incident/%s/a-1" % a, tok[("viewer", B)], None, None, 403, "forbidden"),
        ("GET", "/api/v1/reports/quarter/2021/2?operator=%s" % a, aB, None, None, 403, "forbidden"),
        # 404
        ("GET", "/api/v1/nothing", adm, None, None, 404, "not_found"),
        ("GET", "/api/v2/incidents", adm, None, None, 404, "not_found"),
        ("GET", "/api/v1/incidents/", adm, None, None, 404, "not_found"),
        ("GET", "/api/v1/incidents/%s/no-such" % a, adm, None, None, 404, "not_found"),
        ("GET", "/api/v1/incidents/%s/no-such/history" % a, adm, None, None, 404, "not_found"),
        ("GET", "/api/v1/rules/jp-1999", adm, None, None, 404, "not_found"),
        ("GET", "/api/v1/reports/incident/%s/no-such" % a, adm, None, None, 404, "not_found"),
        ("GET", "/no-such", None, None, None, 404, "not_found"),
        ("GET", "/web/no-such.js", None, None, None, 404, "not_found"),
        # 405
        ("DELETE", "/api/v1/incidents", adm, None, None, 405, "method_not_allowed"),
        ("PUT", "/api/v1/incidents/%s/a-1" % a, adm, valid, None, 405, "method_not_allowed"),
        ("GET", "/api/v1/classify", adm, None, None, 405, "method_not_allowed"),
        ("POST", "/api/v1/rules", adm, valid, None, 405, "method_not_allowed"),
        ("POST", "/healthz", None, "{}", None, 405, "method_not_allowed"),
        # 400: the target
        ("GET", "/api/v1/incidents/%s/a%%zz" % a, adm, None, None, 400, "invalid"),
        ("GET", "/api/v1/incidents/%s/a%%4" % a, adm, None, None, 400, "invalid"),
        ("GET", "/api/v1/incidents/%FF%FE/a-1", adm, None, None, 400, "invalid"),
        ("GET", "/api/v1/incidents/%s/a%%00b" % a, adm, None, None, 400, "invalid"),
        ("GET", "/api/v1/incidents?color=red", adm, None, None, 400, "invalid"),
        ("GET", "/api/v1/incidents?fy=2021&fy=2022", adm, None, None, 400, "invalid"),
        ("GET", "/api/v1/incidents?fy=FY2021", adm, None, None, 400, "invalid"),
        ("GET", "/api/v1/incidents?quarter=5", adm, None, None, 400, "invalid"),
        ("GET", "/api/v1/incidents?report=urgent", adm, None, None, 400, "invalid"),
        ("GET", "/api/v1/incidents?open=yes", adm, None, None, 400, "invalid"),
        ("GET", "/api/v1/incidents?limit=0", adm, None, None, 400, "invalid"),
        ("GET", "/api/v1/incidents?limit=5000", adm, None, None, 400, "invalid"),
        ("GET", "/api/v1/incidents?limit=20abc", adm, None, None, 400, "invalid"),
        ("GET", "/api/v1/incidents?cursor=zz", adm, None, None, 400, "invalid"),
        ("GET", "/api/v1/incidents?cursor=7b7d", adm, None, None, 400, "invalid"),
        ("GET", "/api/v1/incidents?operator=%E6%A0", adm, None, None, 400, "invalid"),
        ("GET", "/api/v1/reports/fy/21", reg, None, None, 400, "invalid"),
        ("GET", "/api/v1/reports/quarter/2021/9", reg, None, None, 400, "invalid"),
        ("GET", "/api/v1/reports/fy/2021?format=pdf", reg, None, None, 400, "invalid"),
        ("GET", "/api/v1/reports/fy/2021?table=money", reg, None, None, 400, "invalid"),
        ("GET", "/api/v1/reports/quarter/2021/2?format=html", reg, None, None, 400, "invalid"),
        ("GET", "/api/v1/reports/incident/%s/a-1?format=csv" % a, adm, None, None, 400, "invalid"),
        ("GET", "/api/v1/incidents/%s/a-1?lang=fr" % a, adm, None, None, 400, "invalid"),
        ("GET", "/api/v1/incidents/%s/a-1?now=yesterday" % a, adm, None, None, 400, "invalid"),
        ("POST", "/api/v1/classify?rulebook=jp-1999", adm, valid, None, 400, "invalid"),
        # 400: the body
        ("POST", "/api/v1/incidents", adm, '{"id": "x", ', None, 400, "invalid"),
        ("POST", "/api/v1/incidents", adm, "", None, 400, "invalid"),
        ("POST", "/api/v1/incidents", adm, "\n\n", None, 400, "invalid"),
        ("POST", "/api/v1/incidents", adm, "[]", None, 400, "invalid"),
        ("POST", "/api/v1/incidents", adm, "[%s]" % valid, None, 400, "invalid"),
        ("POST", "/api/v1/incidents", adm, valid.replace("456516", '"many"'), None, 400, "invalid"),
        ("POST", "/api/v1/incidents", adm, valid.replace('"started_at"', '"begun_at"'), None, 400, "invalid"),
        ("POST", "/api/v1/incidents", adm, valid.replace("email_paid", "email_free_beer"), None, 400, "invalid"),
        ("POST", "/api/v1/incidents", adm, valid.replace("2021-08-03T15", "2021-13-03T15"), None, 400, "invalid"),
        ("POST", "/api/v1/incidents", adm, valid.encode().replace(b"bad-x", b"bad-\xff"), None, 400, "invalid"),
        ("POST", "/api/v1/incidents", adm, valid.encode().replace(b"bad-x", b"bad\x00x"), None, 400, "invalid"),
        ("POST", "/api/v1/incidents", adm, "[" * 30000 + "]" * 30000, None, 400, "invalid"),
        ("POST", "/api/v1/incidents", adm, "1\n2\n", "application/x-ndjson", 400, "invalid"),
        ("POST", "/api/v1/incidents", adm, '{"id":"x"}\n{"id":"y"}\n', "application/x-ndjson", 400, "invalid"),
        ("POST", "/api/v1/classify", adm, "not json at all", None, 400, "invalid"),
        ("POST", "/api/v1/classify", adm, '{"id": 5}', None, 400, "invalid"),
        ("POST", "/api/v1/classify?now=2021-02-30T00:00:00Z", adm, valid, None, 400, "invalid"),
        # 413, 415
        ("POST", "/api/v1/incidents", adm, "x" * 70000, None, 413, "payload_too_large"),
        ("POST", "/api/v1/classify", adm, "[" * 65537, None, 413, "payload_too_large"),
        ("POST", "/api/v1/incidents", adm, valid, "text/plain", 415, "unsupported_media_type"),
        ("POST", "/api/v1/incidents", adm, valid, "application/json; charset=latin1", 415, "unsupported_media_type"),
        ("POST", "/api/v1/classify", adm, valid, "application/xml", 415, "unsupported_media_type"),
    ]
    n = 0
    for method, path, token, body, ctype, want, code in cases:
        headers = {}
        if token == "":
            headers["Authorization"] = "Bearer "
            token = None
        st, h, data = srv.request(method, path, body, token, headers=headers, ctype=ctype)
        try:
            err = json.loads(data)["error"] if method != "HEAD" else {"code": code}
        except (ValueError, KeyError, TypeError):
            err = {}
        ok = st == want and err.get("code") == code and err.get("message")
        if want == 405:
            ok = ok and "allow" in h
        if want == 401:
            ok = ok and h.get("www-authenticate", "").startswith("Bearer")
        check(ok, "bad request %s %s -> %d %s (got %d %s)" % (method, path[:70], want, code, st,
                                                            err.get("code")))
        n += 1
    # without a Content-Type at all
    st, _, data = srv.request("POST", "/api/v1/incidents", None, adm,
                              headers={"Content-Length": "2"})
    check(st in (400, 415), "POST without Content-Type or body: %d" % st)
    # an oversized body sent chunked (no Content-Length)
    head = ("POST /api/v1/classify HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" % adm).encode()
    chunk = b"10000\r\n" + b"x" * 0x10000 + b"\r\n"
    resp = raw(srv.port, head + chunk * 2 + b"0\r\n\r\n")
    check(status_of(resp) == 413, "chunked body over the limit -> 413 (%s)" % status_of(resp))
    # headers too large
    resp = raw(srv.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"y" * 70000 + b"\r\n\r\n")
    check(status_of(resp) in (413, 431) or resp == b"", "64 KiB header refused (%s)" % status_of(resp))
    # not HTTP at all
    resp = raw(srv.port, b"\x16\x03\x01\x02\x00garbage\r\n\r\n")
    check(status_of(resp) in (400, None), "garbage on the socket: 400 or closed")
    n += 4
    check(n >= 60, "%d bad requests" % n)
    st, _, _ = srv.json("GET", "/healthz")
    check(st == 200, "still serving after the bad requests")


# Every endpoint with every role against two operators.
def walk(srv, tok):
    for op in (A, B):
        t = tok[("admin", op)]
        for i in range(2):
            srv.request("POST", "/api/v1/incidents", json.dumps(record(op, "w-%d" % i)), t)
    ops = {A: quote(A), B: quote(B)}
    for (role, own), t in sorted(tok.items(), key=lambda x: str(x[0])):
        for target in (A, B):
            o = ops[target]
            calls = [
                ("GET", "/api/v1/incidents?operator=%s" % o, None, "read"),
                ("GET", "/api/v1/incidents/%s/w-0" % o, None, "read"),
                ("GET", "/api/v1/incidents/%s/w-0/history" % o, None, "read"),
                ("GET", "/api/v1/reports/incident/%s/w-0" % o, None, "read"),
                ("GET", "/api/v1/reports/quarter/2021/2?operator=%s" % o, None, "read"),
                ("POST", "/api/v1/incidents", json.dumps(record(target, "w-1", users=7)), "write"),
            ]
            for method, path, body, kind in calls:
                st, _, data = srv.request(method, path, body, t)
                if role == "ingest":
                    want = {403}
                elif kind == "read":
                    want = {200} if role == "regulator" or own == target else {403}
                else:
                    want = {200} if role == "admin" and own == target else {403}
                leaked = own is not None and own != target and st == 200
                check(st in want and not leaked,
                      "walk %s of %s: %s %s on %s -> %d" % (role, own, method, path.split("?")[0][:40],
                                                           target, st))
        # the unfiltered list of an operator's token holds only its own
        if role in ("admin", "viewer"):
            st, _, body = srv.json("GET", "/api/v1/incidents?limit=1000", token=t)
            ops_seen = {x["operator"] for x in body["incidents"]}
            check(st == 200 and ops_seen == {own}, "walk %s of %s: list shows only %s" % (role, own, own))
            st, _, data = srv.request("GET", "/api/v1/reports/quarter/2021/2?format=csv", token=t)
            other = B if own == A else A
            check(st == 200 and other.encode() not in data, "walk %s of %s: quarterly batch is its own" % (role, own))
    st, _, body = srv.json("GET", "/api/v1/incidents?limit=1000", token=tok[("regulator", None)])
    check({x["operator"] for x in body["incidents"]} == {A, B}, "regulator lists both operators")


# The API answers what the command line prints.
def agreement(srv, reg):
    ex = examples()
    adm = {}
    for r in ex:
        if r["operator"] not in adm:
            adm[r["operator"]] = srv.token("admin", r["operator"])
        st, _, _ = srv.request("POST", "/api/v1/incidents", json.dumps(r, ensure_ascii=False),
                               adm[r["operator"]])
        if st not in (200, 201):
            check(False, "store example %s: %d" % (r["id"], st))
    def cli(*args):
        return subprocess.run([JIKO] + list(args) + ["--db", srv.db], check=True,
                              capture_output=True).stdout
    for fmt in ("json", "csv", "html", "text"):
        st, h, data = srv.request("GET", "/api/v1/reports/fy/2021?format=%s&lang=ja" % fmt, token=reg)
        check(st == 200 and data == cli("report", "--fy", "2021", "--format", fmt, "--lang", "ja"),
              "report fy 2021 %s: same bytes as jiko report (%s)" % (fmt, h.get("content-type")))
    st, _, data = srv.request("GET", "/api/v1/reports/quarter/2021/2?format=csv", token=reg)
    check(st == 200 and data == cli("report", "quarter", "--fy", "2021", "--q", "2", "--format", "csv"),
          "quarterly batch: same as jiko report quarter")
    pep = [r for r in ex if r["id"] == "fy2021-02-pepabo"][0]
    # an operator's token gets the statistics of its own reports only
    own = srv.token("viewer", pep["operator"])
    st, _, data = srv.request("GET", "/api/v1/reports/fy/2021", token=own)
    mine = json.loads(data) if st == 200 else {}
    st_all, _, data = srv.request("GET", "/api/v1/reports/fy/2021", token=reg)
    every = json.loads(data) if st_all == 200 else {}
    n_mine = sum(1 for r in ex if r["operator"] == pep["operator"])
    check(st == 200 and mine.get("serious_reports") == n_mine and
          every.get("serious_reports", 0) > n_mine,
          "report fy 2021 for %s's viewer: its own %d serious reports of %s" %
          (pep["operator"], n_mine, every.get("serious_reports")))
    st, _, data = srv.request("GET", "/api/v1/reports/incident/%s/%s?format=html&lang=ja"
                              % (quote(pep["operator"]), pep["id"]), token=reg)
    check(st == 200 and data == cli("report", "incident", pep["id"], "--operator", pep["operator"],
                                    "--format", "html", "--lang", "ja"),
          "case sheet: same as jiko report incident")
    body = "\n".join(json.dumps(r, ensure_ascii=False) for r in ex) + "\n"
    st, _, res = srv.json("POST", "/api/v1/classify?now=2021-12-01T00:00:00%2B09:00", body, reg,
                          ctype="application/x-ndjson")
    want = subprocess.run([JIKO, "classify", "--json", "--lang", "en", "--now",
                           "2021-12-01T00:00:00+09:00", "-"], input=body.encode(), check=True,
                          capture_output=True).stdout.decode().splitlines()
    got = [{k: v for k, v in x.items() if k != "line"} for x in res["results"]]
    check(got == [json.loads(l) for l in want], "classify: the same objects as jiko classify --json")


def slow_clients(srv):
    # a client that stops halfway through its headers is dropped after the
    # idle timeout (2 s here), and others are served meanwhile
    loris = []
    for _ in range(20):
        s = socket.create_connection(("127.0.0.1", srv.port))
        s.sendall(b"GET /api/v1/rules HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        loris.append(s)
    t0 = time.time()
    st, _, _ = srv.json("GET", "/healthz")
    check(st == 200 and time.time() - t0 < 3, "served while 20 slow clients hold connections (%.3f s)" % (time.time() - t0))
    closed = 0
    for s in loris:
        s.settimeout(8)
        try:
            closed += s.recv(100) == b""
        except (socket.timeout, ConnectionResetError):
            closed += 1 if not isinstance(sys.exc_info()[1], socket.timeout) else 0
        s.close()
    check(closed == 20 and time.time() - t0 < 10,
          "slow clients dropped by the timeout: %d of 20 in %.1f s" % (closed, time.time() - t0))
    # a body that never finishes
    s = socket.create_connection(("127.0.0.1", srv.port))
    s.sendall(b"POST /api/v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: 100\r\n\r\n{")
    s.settimeout(8)
    t0 = time.time()
    try:
        got = s.recv(1000)
    except socket.timeout:
        got = None
    check(got is not None and time.time() - t0 < 8, "a stalled body is dropped (%.1f s)" % (time.time() - t0))
    s.close()


def limits():
    """Rate limits and admission on a server configured tight."""
    srv = Server(JIKO, conf="rate = 5\nburst = 5\nmax_inflight = 1\nconnection_timeout_s = 5\n",
                 threads=0)
    srv.start()
    try:
        t = srv.token("regulator")
        statuses = [srv.request("GET", "/api/v1/rules", token=t)[0] for _ in range(12)]
        st, h, data = srv.request("GET", "/api/v1/rules", token=t)
        check(statuses[:5] == [200] * 5 and 429 in statuses and st == 429
              and int(h.get("retry-after", "0")) >= 1 and json.loads(data)["error"]["code"] == "rate_limited",
              "rate 5/s burst 5: 429 with Retry-After after the burst (%s)" % statuses)
        other = srv.token("regulator")
        st, _, _ = srv.request("GET", "/api/v1/rules", token=other)
        check(st == 200, "another token has its own bucket")
        time.sleep(1.2)
        st, _, _ = srv.request("GET", "/api/v1/rules", token=t)
        check(st == 200, "the bucket refills")
        # admission: one request in progress (its body still coming), the next is refused at once
        s = socket.create_connection(("127.0.0.1", srv.port))
        s.sendall(("POST /api/v1/classify HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                   "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{" % other).encode())
        time.sleep(0.3)
        t0 = time.time()
        st, h, data = srv.request("GET", "/api/v1/rules", token=other)
        check(st == 503 and h.get("retry-after") == "1" and json.loads(data)["error"]["code"] == "overloaded"
              and time.time() - t0 < 2, "admission: 503 overloaded at once with Retry-After (%d, %.3f s)" % (st, time.time() - t0))
        s.close()
        time.sleep(0.3)
        st, _, _ = srv.request("GET", "/api/v1/rules", token=other)
        check(st == 200, "admitted again once the request in progress is gone")
        st, _, data = srv.request("GET", "/metrics")
        text = data.decode()
        check('jiko_http_refused_total{reason="rate_limit"}' in text
              and 'jiko_http_refused_total{reason="overload_queue"} 1' in text,
              "refusals counted in /metrics: " + " ".join(l for l in text.splitlines() if l.startswith("jiko_http_refused")))
    finally:
        check(srv.stop() == 0, "tight server: clean exit")


if __name__ == "__main__":
    sys.exit(main())
