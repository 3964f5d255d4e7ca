#!/usr/bin/env python3
"""test_openapi.py JIKO — docs/openapi.yaml against the real server.

The document itself: OpenAPI 3.0.3, every operation with an operationId and a
summary, and the routes of src/serve/route.c's table (paths, methods, query
parameters) exactly those documented, so that a new route or parameter
without documentation fails here.

The server: a list of requests that covers every path, every method (HEAD
and methods a path does not take included) and every documented status,
good and bad, sent to `jiko serve` on loopback, with tokens of every role for
two operators (one with a Japanese name, one with a '/') and the examples
stored.  Each answer must be documented: its path, method and status, its
headers (Allow, Retry-After, WWW-Authenticate, Cache-Control), its
Content-Type among the documented media types, and a JSON body valid against
the documented schema ($refs resolved, OpenAPI's `nullable` turned into a
JSON Schema type list).  Every status that the document names must have been
seen at least once.

Python from the system: python3-yaml and python3-jsonschema (scripts/deps.sh).
"""
import copy
import json
import os
import re
import sqlite3
import subprocess
import sys
import socket
import time

import jsonschema
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jikoserve import remote_write_body, ROOT, Checks, Server, examples, quote, raw, status_of  # noqa: E402

JIKO = os.path.abspath(sys.argv[1])
SPEC_PATH = os.path.join(ROOT, "docs", "openapi.yaml")
ROUTE_C = os.path.join(ROOT, "src", "serve", "route.c")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

check = Checks()


# ---- the document ---------------------------------------------------------

def load_spec():
    with open(SPEC_PATH, encoding="utf-8") as f:
        return yaml.safe_load(f)


def pointer(spec, ref):
    if not ref.startswith("#/"):
        raise ValueError("only local $refs: " + ref)
    node = spec
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def resolve(spec, node, depth=0):
    """A copy of `node` with every $ref replaced by what it points to."""
    if depth > 50:
        raise ValueError("$ref nesting too deep (a cycle?)")
    if isinstance(node, dict):
        if "$ref" in node:
            return resolve(spec, pointer(spec, node["$ref"]), depth + 1)
        return {k: resolve(spec, v, depth + 1) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(spec, v, depth + 1) for v in node]
    return node


def to_json_schema(s):
    """OpenAPI 3.0 schema object -> JSON Schema (draft 4): `nullable: true`
    becomes a type list with "null" (and None in an enum)."""
    if isinstance(s, list):
        return [to_json_schema(x) for x in s]
    if not isinstance(s, dict):
        return s
    out = {}
    for k, v in s.items():
        if k in ("properties", "patternProperties", "definitions"):
            out[k] = {name: to_json_schema(sub) for name, sub in v.items()}
        elif k in ("items", "additionalProperties", "not"):
            out[k] = to_json_schema(v)
        elif k in ("allOf", "anyOf", "oneOf"):
            out[k] = [to_json_schema(x) for x in v]
        elif k in ("nullable", "discriminator", "example", "xml", "externalDocs", "deprecated",
                   "readOnly", "writeOnly"):
            continue
        else:
            out[k] = copy.deepcopy(v)
    if s.get("nullable") is True:
        if "type" in out:
            t = out["type"]
            out["type"] = (t if isinstance(t, list) else [t]) + ["null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = out["enum"] + [None]
        if "type" not in out and "enum" not in out:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


def route_table():
    """route.c's table: [(name, methods, query keys)]."""
    text = open(ROUTE_C, encoding="utf-8").read()
    body = text[text.index("static const route_def routes[]"):]
    body = body[:body.index("};")]
    rows = re.findall(r'\{\s*(ROUTE_[A-Z_]+)\s*,\s*([A-Z_ |]+?)\s*,\s*"([^"]+)"\s*,\s*\{([^}]*)\}\s*,'
                      r'\s*\{([^}]*)\}\s*,\s*(QUERY_[A-Z]+)\s*\}', body, re.S)
    table = []
    for _id, methods, name, _segs, keys, _query in rows:
        ms = set()
        for m in methods.split("|"):
            m = m.strip()
            if m == "GETS":
                ms |= {"get", "head"}
            elif m.startswith("ROUTE_"):
                ms.add(m[len("ROUTE_"):].lower())
        table.append((name, ms, set(re.findall(r'"([^"]+)"', keys))))
    return table


def check_document(spec):
    check(spec.get("openapi") == "3.0.3", "document: OpenAPI 3.0.3")
    schemes = spec.get("components", {}).get("securitySchemes", {})
    check(any(s.get("type") == "http" and s.get("scheme") == "bearer" for s in schemes.values()),
          "document: a bearer security scheme")
    ids = []
    for path, item in spec["paths"].items():
        for m in METHODS:
            op = item.get(m)
            if op is None:
                continue
            ids.append(op.get("operationId"))
            check(bool(op.get("operationId")) and bool(op.get("summary")),
                  "document: %s %s has an operationId and a summary" % (m.upper(), path))
            for st, r in op["responses"].items():
                r = resolve(spec, r)
                check(bool(r.get("description")), "document: %s %s %s has a description"
                      % (m.upper(), path, st))
        check("405" in item.get("x-jiko-other-methods", {}),
              "document: %s documents 405 for the methods it does not take" % path)
    check(len(ids) == len(set(ids)), "document: operationIds are unique")
    # every $ref points somewhere, and every schema converts
    for name, s in spec["components"]["schemas"].items():
        try:
            jsonschema.Draft4Validator.check_schema(to_json_schema(resolve(spec, s)))
            good = True
        except Exception as e:  # noqa: BLE001
            good = False
            print("     %s: %s" % (name, e))
        check(good, "document: schema %s resolves and is valid JSON Schema" % name)

    table = route_table()
    check(len(table) >= 11, "route.c: %d routes parsed from its table" % len(table))
    by_path = {}
    for name, methods, keys in table:  # a path may have one row per method
        by_path.setdefault(name, []).append((methods, keys))
    for name, rows in by_path.items():
        item = spec["paths"].get(name)
        if not check(item is not None, "route %s is documented" % name):
            continue
        documented = {m for m in METHODS if m in item}
        want = set().union(*(ms for ms, _ in rows)) - {"head"}  # HEAD: part of every GET
        check(documented == want, "route %s: methods %s documented (route.c: %s)"
              % (name, sorted(documented), sorted(want)))
        for methods, keys in rows:
            for m in methods & documented:
                query, path_params = set(), set()
                for p in item[m].get("parameters", []) + item.get("parameters", []):
                    p = resolve(spec, p)
                    (query if p["in"] == "query" else path_params if p["in"] == "path" else set()).add(
                        p["name"])
                check(query == keys, "route %s %s: query parameters %s (route.c: %s)"
                      % (m.upper(), name, sorted(query), sorted(keys)))
                check(path_params == set(re.findall(r"\{(\w+)\}", name)),
                      "route %s %s: path parameters %s declared" % (m.upper(), name, sorted(path_params)))
    names = {t[0] for t in table}
    for path in spec["paths"]:
        check(path in names, "documented path %s is a route of route.c" % path)


# ---- answers against the document ----------------------------------------

class Conformance:
    def __init__(self, spec):
        self.spec = spec
        self.seen = set()          # (path template, method key, status)
        self.statuses_seen = set()
        self.templates = []
        for path in spec["paths"]:
            rx = "^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(path)) + "$"
            self.templates.append((re.compile(rx), path))

    def template_of(self, target):
        p = target.split("?", 1)[0].split("#", 1)[0]
        for rx, path in self.templates:
            if rx.match(p):
                return path
        return None

    def documented(self, method, target, status):
        """(label, response object) or (label, None)."""
        tpl = self.template_of(target)
        st = str(status)
        if tpl is None:
            responses = self.spec.get("x-jiko-unmatched-paths", {}).get("responses", {})
            return ("(no route) %s" % method, "x-jiko-unmatched-paths", method,
                    responses.get(st))
        item = self.spec["paths"][tpl]
        m = method.lower()
        key = m
        if m == "head" and "get" in item:
            key = "get"
        if key in item:
            return (tpl, tpl, key, item[key]["responses"].get(st))
        return (tpl, tpl, "other", item.get("x-jiko-other-methods", {}).get(st))

    def verify(self, method, target, status, headers, data, what=None):
        label, tpl, key, resp = self.documented(method, target, status)
        what = what or "%s %s" % (method, target if len(target) < 80 else target[:77] + "...")
        self.seen.add((tpl, key, str(status)))
        self.statuses_seen.add(str(status))
        if not check(resp is not None, "%s -> %d is documented (%s)" % (what, status, label)):
            print("     body: %r" % data[:300])
            return None
        resp = resolve(self.spec, resp)
        problems = []
        ctype = headers.get("content-type")
        for h, hdef in resp.get("headers", {}).items():
            hdef = resolve(self.spec, hdef)
            v = headers.get(h.lower())
            if v is None:
                problems.append("header %s missing" % h)
            elif hdef.get("schema", {}).get("type") == "integer":
                if not re.fullmatch(r"\d+", v) or int(v) < hdef["schema"].get("minimum", 0):
                    problems.append("header %s: %r" % (h, v))
            elif "enum" in hdef.get("schema", {}) and v not in hdef["schema"]["enum"]:
                problems.append("header %s: %r" % (h, v))
        content = resp.get("content")
        body_json = None
        if content is None:
            # answered by libmicrohttpd (431): no Content-Type, no JSON
            if ctype is not None:
                problems.append("Content-Type %r where none is documented" % ctype)
        else:
            # the API's answers are never cached; the dashboard's files and
            # the public status pages say their own Cache-Control (checked
            # with the headers above)
            if "Cache-Control" not in resp.get("headers", {}) and \
                    headers.get("cache-control") != "no-store":
                problems.append("Cache-Control %r" % headers.get("cache-control"))
            media = match_media(ctype, content)
            if media is None:
                problems.append("Content-Type %r not among %s" % (ctype, list(content)))
            elif method == "HEAD":
                if data:
                    problems.append("HEAD answered with a body")
            elif is_json(media):
                try:
                    body_json = json.loads(data)
                except ValueError:
                    problems.append("body is not JSON: %r" % data[:200])
                else:
                    schema = to_json_schema(resolve(self.spec, content[media].get("schema", {})))
                    errs = sorted(jsonschema.Draft4Validator(schema).iter_errors(body_json),
                                  key=lambda e: list(e.absolute_path))
                    for e in errs[:3]:
                        if e.context:  # oneOf/anyOf: the alternative that came closest
                            e = jsonschema.exceptions.best_match(e.context)
                        problems.append("schema: %s at %s" % (e.message[:300],
                                                              "/".join(map(str, e.absolute_path))))
            else:
                try:
                    data.decode("utf-8")
                except UnicodeDecodeError:
                    problems.append("body is not UTF-8")
                if status == 200 and not data:
                    problems.append("empty body")
        check(not problems, "%s -> %d: %s" % (what, status, "; ".join(problems) or
                                               "headers, %s and body as documented" % (ctype,)))
        return body_json

    def coverage(self):
        """Every documented (path, method, status) seen or not."""
        missing = []
        for path, item in self.spec["paths"].items():
            for m in METHODS:
                if m in item:
                    for st in item[m]["responses"]:
                        if (path, m, st) not in self.seen:
                            missing.append("%s %s %s" % (m.upper(), path, st))
            for st in item.get("x-jiko-other-methods", {}):
                if (path, "other", st) not in self.seen:
                    missing.append("other methods %s %s" % (path, st))
        return missing


def is_json(media):
    return media.split(";")[0].strip().lower() == "application/json"


def norm(ct):
    return ";".join(p.strip().lower() for p in ct.split(";"))


def match_media(ctype, content):
    """The documented media type that the Content-Type is."""
    if ctype is None:
        return None
    for media in content:
        if norm(media) == norm(ctype):
            return media
    base = ctype.split(";")[0].strip().lower()
    for media in content:
        if ";" not in media and media.strip().lower() == base:
            return media
    return None


# ---- the requests ----------------------------------------------------------

A = "株式会社エー通信"  # the two operators: a Japanese name, and one with a slash
B = "B Telecom/West"


def record(op, rid, users=456516, ended="2021-08-03T17:25:00+09:00", svc="email_paid",
           started="2021-08-03T15:00:00+09:00"):
    return {"id": rid, "operator": op, "started_at": started, "ended_at": ended,
            "services": [{"service": svc, "effect": "stop", "users": users}],
            "equipment": "application_server"}


class Client:
    def __init__(self, srv, conf):
        self.srv = srv
        self.conf = conf

    def call(self, method, target, body=None, token=None, ctype=None, headers=None,
             want=None, what=None):
        h = dict(headers or {})
        st, hdrs, data = self.srv.request(method, target, body, token, headers=h, ctype=ctype)
        if want is not None:
            wants = want if isinstance(want, (set, tuple, list)) else {want}
            check(st in wants, "%s %s: status %d (want %s)" % (
                method, target if len(target) < 70 else target[:67] + "...", st,
                "/".join(map(str, sorted(wants)))))
        j = self.conf.verify(method, target, st, hdrs, data, what)
        return st, hdrs, data, j

    def raw(self, method, target, extra, what, want=None):
        """A request written by hand (headers too large)."""
        req = ("%s %s HTTP/1.1\r\nHost: x\r\n" % (method, target)).encode() + extra + b"\r\n"
        resp = raw(self.srv.port, req)
        head, _, body = resp.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        hdrs = {}
        for line in lines[1:]:
            k, _, v = line.decode("latin-1").partition(":")
            hdrs[k.strip().lower()] = v.strip()
        st = status_of(resp)
        if not check(st is not None, "%s: an HTTP answer" % what):
            return
        if want is not None:
            check(st == want, "%s: status %d (want %d)" % (what, st, want))
        self.conf.verify(method, target, st, hdrs, body, what)


def make_tokens(srv, ops):
    """Every token before the server starts (see the report on tokens used
    within 100 ms of the server's last reading of the token list)."""
    tok = {}
    for op in (A, B):
        for role in ("admin", "viewer", "ingest"):
            tok[(role, op)] = srv.token(role, op)
    tok[("regulator", None)] = srv.token("regulator")
    for op in ops:
        if ("admin", op) not in tok:
            tok[("admin", op)] = srv.token("admin", op)
    revoked = srv.token("admin", A, note="revoked at once")
    listing = subprocess.run([JIKO, "token", "list", "--json", "--db", srv.db], check=True,
                             capture_output=True, text=True).stdout
    rid = [json.loads(l)["id"] for l in listing.splitlines() if "revoked at once" in l][0]
    srv.revoke(rid)
    return tok, revoked


def main():
    spec = load_spec()
    check_document(spec)
    conf = Conformance(spec)

    srv = Server(JIKO, conf="connection_timeout_s = 5\nmax_body_bytes = 65536\nrate = 0\n")
    ex = examples()
    tok, revoked = make_tokens(srv, {r["operator"] for r in ex})
    srv.start()
    try:
        c = Client(srv, conf)
        service(c)
        posts(c, tok, revoked, ex)
        reads(c, tok, revoked, ex)
        classify(c, tok, ex)
        rules(c, tok)
        reports(c, tok, ex)
        notices(c, tok)
        unmatched(c, tok)
        dashboard(c, tok)
        headers_too_large(c, tok)
        ingest(c, tok)
        broken_record(c, srv, tok)
        registry_failure(c, srv, tok)
    finally:
        check(srv.stop() == 0, "main server: clean exit on SIGTERM")
    limits(conf)

    missing = conf.coverage()
    for m in missing:
        print("note not exercised: " + m)
    documented = set()
    for item in spec["paths"].values():
        for m in METHODS:
            if m in item:
                documented |= set(item[m]["responses"])
        documented |= set(item.get("x-jiko-other-methods", {}))
    documented |= set(spec.get("x-jiko-unmatched-paths", {}).get("responses", {}))
    unseen = sorted(documented - conf.statuses_seen)
    check(not unseen, "every documented status was answered at least once (unseen: %s)" % unseen)
    ops = [(p, m) for p, item in spec["paths"].items() for m in METHODS if m in item]
    for p, m in ops:
        got = {st for (tp, k, st) in conf.seen if tp == p and k == m}
        check(any(s.startswith("2") for s in got) and any(s.startswith("4") for s in got),
              "%s %s: good and bad requests answered (%s)" % (m.upper(), p, sorted(got)))
    print("%d of %d documented (path, method, status) exercised"
          % (sum(1 for _ in conf.seen), len(conf.seen) + len(missing)))
    print("%d checks, %d failure(s)" % (check.n, check.failed))
    print("%d passed, %d failed" % (check.n - check.failed, check.failed))
    return 1 if check.failed else 0


def ingest(c, tok):
    """The three ingest endpoints, good and bad."""
    ing, adm = tok[("ingest", A)], tok[("admin", A)]
    W, I, AL = "/api/v1/write", "/api/v2/write", "/api/v1/alerts"
    PB = "application/x-protobuf"
    good = remote_write_body([({"__name__": "kpi_x", "site": "a"}, [(1700000000000, 0.5)])])
    c.call("POST", W, good, ing, ctype=PB, headers={"Content-Encoding": "snappy"}, want=204)
    c.call("POST", W, b"junk", ing, ctype=PB, want=400)
    bad_series = remote_write_body([({"site": "no name"}, [(1700000000000, 1.0)])])
    c.call("POST", W, bad_series, ing, ctype=PB, want=400, what="remote_write without __name__")
    c.call("POST", W, good, adm, ctype=PB, want=403)
    c.call("POST", W, good, None, ctype=PB, want=401)
    c.call("POST", W, good, ing, ctype="application/json", want=415)
    c.call("POST", W, good, ing, ctype=PB + ";proto=io.prometheus.write.v2.Request", want=415)
    c.call("POST", W, "x" * 70000, ing, ctype=PB, want=413)
    c.call("GET", W, None, ing, want=405)
    c.call("POST", big_target(W), good, ing, ctype=PB, want=414)
    c.call("POST", I + "?precision=s&org=o&bucket=b", "kpi_x,site=a value=1 1700000000\n", ing,
           ctype="text/plain", want=204)
    c.call("POST", I, "kpi_x,site=a value=1\nkpi_x,site=a value=\n", ing, ctype="text/plain",
           want=400)
    c.call("POST", I + "?precision=weeks", "kpi_x v=1", ing, ctype="text/plain", want=400)
    c.call("POST", I + "?colour=red", "kpi_x v=1", ing, ctype="text/plain", want=400)
    c.call("POST", I, "kpi_x v=1", tok[("viewer", A)], ctype="text/plain", want=403)
    c.call("DELETE", I, None, ing, want=405)
    alerts = {"version": "4", "status": "firing", "alerts": [
        {"status": "firing", "labels": {"alertname": "Nothing"},
         "startsAt": "2026-12-05T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z"}]}
    c.call("POST", AL, json.dumps(alerts), ing, want=200)
    c.call("POST", AL, json.dumps(dict(alerts, version="3")), ing, want=400)
    c.call("POST", AL, "[1,2", ing, want=400)
    c.call("POST", AL, json.dumps(alerts), tok[("regulator", None)], want=403)
    c.call("POST", AL, json.dumps(alerts), ing, ctype="text/plain", want=415)
    c.call("PUT", AL, None, ing, want=405)


def big_target(path):
    return path + "?fy=" + "1" * 9000


BIG_HEADER = b"X-Big: " + b"y" * 40000 + b"\r\n"


def service(c):
    c.call("GET", "/healthz", want=200)
    c.call("HEAD", "/healthz", want=200)
    c.call("GET", "/healthz?verbose=1", want=200, what="GET /healthz ignores a query (probes add cache-busters)")
    c.call("POST", "/healthz", "{}", want=405)
    c.call("DELETE", "/healthz", want=405)
    c.call("GET", big_target("/healthz"), want=414)
    c.raw("GET", "/healthz", BIG_HEADER, "GET /healthz with 40 KB of headers", want=431)
    # the default max_header_bytes (16 KiB) still takes 10 KB of headers
    c.raw("GET", "/healthz", b"X-Big: " + b"y" * 10000 + b"\r\n", "GET /healthz with 10 KB of headers",
          want=200)
    c.call("GET", "/metrics", want=200)
    c.call("HEAD", "/metrics", want=200)
    c.call("GET", "/metrics?name=x", want=200, what="GET /metrics ignores a query")
    c.call("PUT", "/metrics", "{}", want=405)
    c.call("GET", big_target("/metrics"), want=414)
    c.raw("GET", "/metrics", BIG_HEADER, "GET /metrics with 40 KB of headers", want=431)


def posts(c, tok, revoked, ex):
    adm, vA, iA, reg = tok[("admin", A)], tok[("viewer", A)], tok[("ingest", A)], \
        tok[("regulator", None)]
    admB = tok[("admin", B)]
    P = "/api/v1/incidents"
    r1 = record(A, "a-1")
    st, _, _, j = c.call("POST", P, json.dumps(r1, ensure_ascii=False), adm, want=201)
    check(j is not None and j.get("outcome") == "stored" and j.get("version") == 1,
          "POST new incident: outcome stored, version 1")
    c.call("POST", P, json.dumps(r1, indent=2, ensure_ascii=False), adm, want=200,
           what="POST the same incident pretty-printed")
    r1b = dict(r1, services=[{"service": "email_paid", "effect": "stop", "users": 30000}])
    st, _, _, j = c.call("POST", P + "?lang=ja", json.dumps(r1b), adm, want=200,
                         what="POST an amendment, lang=ja")
    check(j is not None and j.get("outcome") == "amended" and j.get("version") == 2,
          "POST amendment: outcome amended, version 2")
    c.call("POST", P + "?fy=2021&limit=5", json.dumps(record(A, "a-2")), adm, want=400,
           what="POST with the list's parameters: refused, they belong to GET")
    c.call("POST", P, json.dumps(record(A, "a-2")), adm, want=201)
    lines = [json.dumps(record(A, "a-%d" % i, users=1000 * i), ensure_ascii=False)
             for i in range(3, 6)]
    lines.insert(1, '{"id": "broken", "operator": "%s"' % A)
    lines.append(json.dumps(record(A, "a-live", ended=None), ensure_ascii=False))
    st, _, _, j = c.call("POST", P, "\n".join(lines) + "\n", adm, ctype="application/x-ndjson",
                         want=200, what="POST JSON Lines, one bad line")
    check(j is not None and j.get("stored") == 4 and j.get("rejected") == 1 and "error" not in j,
          "POST JSON Lines: 4 stored, 1 rejected, no top-level error")
    c.call("POST", P, "\n".join(lines[:2]) + "\n", adm, ctype="application/jsonl", want=200,
           what="POST application/jsonl, unchanged and rejected")
    c.call("POST", P, b"\xef\xbb\xbf" + json.dumps(record(A, "a-bom")).encode(), adm,
           want={200, 201}, what="POST one record after a byte order mark")
    c.call("POST", P, "1\n2\n", adm, ctype="application/json-lines", want=400,
           what="POST JSON Lines, every line rejected")
    both = "\n".join(json.dumps(record(B, "b-%d" % i)) for i in range(2)) + "\n"
    c.call("POST", P, both, adm, ctype="application/x-ndjson", want=403,
           what="POST JSON Lines of another operator only")
    c.call("POST", P, json.dumps(record(B, "b-0")), adm, want=403,
           what="POST one record of another operator")
    for op in (B,):
        for i in range(3):
            c.call("POST", P, json.dumps(record(op, "b-%d" % i, users=40000 * (i + 1))),
                   tok[("admin", op)], ctype="application/json; charset=utf-8", want=201,
                   what="POST as admin of B (charset=utf-8)")
    for t, who in ((vA, "viewer"), (reg, "regulator"), (iA, "ingest")):
        c.call("POST", P, json.dumps(record(A, "x")), t, want=403, what="POST as %s" % who)
    c.call("POST", P, json.dumps(record(A, "x")), None, want=401, what="POST without a token")
    c.call("POST", P, json.dumps(record(A, "x")), revoked, want=401,
           what="POST with a revoked token")
    c.call("POST", P, json.dumps(record(A, "x")), "jiko_" + "A" * 43, want=401,
           what="POST with an unknown token")
    c.call("POST", P, "", adm, want=400, what="POST an empty body")
    c.call("POST", P, '{"id": "x", ', adm, want=400, what="POST broken JSON")
    c.call("POST", P, json.dumps(record(A, "x", svc="email_free_beer")), adm, want=400,
           what="POST an unknown service")
    c.call("POST", P + "?lang=fr", json.dumps(record(A, "x")), adm, want=400)
    c.call("POST", P + "?colour=red", json.dumps(record(A, "x")), adm, want=400)
    c.call("POST", P, json.dumps(record(A, "x")), adm, ctype="text/plain", want=415)
    c.call("POST", P, json.dumps(record(A, "x")), adm,
           ctype="application/json; charset=latin1", want=415)
    c.call("POST", P, "x" * 70000, adm, want=413, what="POST 70000 bytes (limit 65536)")
    c.call("POST", big_target(P), "{}", adm, want=414)
    c.raw("POST", P, b"Authorization: Bearer " + adm.encode() + b"\r\n" + BIG_HEADER,
          "POST /api/v1/incidents with 40 KB of headers", want=431)
    c.call("DELETE", P, None, adm, want=405)
    c.call("PATCH", P, "{}", adm, want=405)
    # the examples, each by an admin of its own operator
    bad = 0
    for r in ex:
        st, _, _, _ = c.call("POST", P, json.dumps(r, ensure_ascii=False),
                             tok[("admin", r["operator"])], want={201}, what="store example %s"
                             % r["id"])
        bad += st != 201
    check(bad == 0, "every example stored")
    del admB


def reads(c, tok, revoked, ex):
    adm, vA, iA, reg = tok[("admin", A)], tok[("viewer", A)], tok[("ingest", A)], \
        tok[("regulator", None)]
    admB = tok[("admin", B)]
    a, b = quote(A), quote(B)
    L = "/api/v1/incidents"
    st, _, _, full = c.call("GET", L + "?limit=1000", None, adm, want=200)
    ids, cursor, pages = [], None, 0
    while pages < 20:
        st, _, _, page = c.call("GET", L + "?limit=2" + ("&cursor=" + cursor if cursor else ""),
                                None, adm, want=200, what="GET list page %d" % (pages + 1))
        pages += 1
        if not page:
            break
        ids += [x["id"] for x in page["incidents"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    check(full is not None and ids == [x["id"] for x in full["incidents"]] and len(ids) >= 6,
          "GET list by pages of 2: the same %d incidents as one page" % len(ids))
    c.call("HEAD", L, None, adm, want=200)
    c.call("GET", L + "?fy=2021&quarter=2&report=serious&open=false&operator=" + quote(ex[1]["operator"]),
           None, reg, want=200, what="GET list with every filter (regulator)")
    c.call("GET", L + "?open=true&operator=" + a, None, vA, want=200)
    c.call("GET", L + "?lang=fr", None, reg, want=400, what="GET list: lang is not a list parameter")
    c.call("GET", L + "?operator=", None, reg, want=400, what="GET list: an empty operator")
    c.call("GET", L + "?operator=" + b, None, adm, want=403)
    c.call("GET", L, None, iA, want=403)
    c.call("GET", L, None, None, want=401)
    c.call("GET", L, None, revoked, want=401)
    for q in ("fy=FY2021", "quarter=5", "report=urgent", "open=yes", "limit=0", "limit=5000",
              "cursor=zz", "cursor=7b7d", "fy=2021&fy=2022", "colour=red", "operator=%E6%A0"):
        c.call("GET", L + "?" + q, None, adm, want=400)
    c.call("GET", big_target(L), None, adm, want=414)
    c.raw("GET", L, b"Authorization: Bearer " + adm.encode() + b"\r\n" + BIG_HEADER,
          "GET /api/v1/incidents with 40 KB of headers", want=431)
    c.call("PUT", L, "{}", adm, want=405)

    one = "/api/v1/incidents/%s/a-1" % a
    c.call("GET", one, None, adm, want=200)
    c.call("GET", one + "?lang=ja", None, vA, want=200)
    c.call("GET", one, None, reg, want=200)
    st, _, _, j = c.call("GET", "/api/v1/incidents/%s/a-live?now=2021-08-03T16:15:00%%2B09:00" % a,
                         None, adm, want=200, what="GET an ongoing incident as of 16:15")
    check(j is not None and j["classification"]["becomes_serious_at"] == "2021-08-03T17:00:00+09:00"
          and j["incident"]["ended_at"] is None, "ongoing incident: becomes serious at 17:00")
    c.call("GET", "/api/v1/incidents/%s/b-0" % b, None, admB, want=200,
           what="GET an incident of an operator with a '/' (%2F)")
    c.call("HEAD", one, None, adm, want=200)
    c.call("GET", "/api/v1/incidents/%s/no-such" % a, None, adm, want=404)
    c.call("GET", one, None, admB, want=403)
    c.call("GET", one, None, iA, want=403)
    c.call("GET", one, None, None, want=401)
    c.call("GET", one + "?lang=fr", None, adm, want=400)
    c.call("GET", one + "?now=yesterday", None, adm, want=400)
    c.call("GET", "/api/v1/incidents/%FF%FE/a-1", None, adm, want=400)
    c.call("GET", "/api/v1/incidents/%s/a%%00b" % a, None, adm, want=400)
    c.call("GET", big_target(one), None, adm, want=414)
    c.call("POST", one, "{}", adm, want=405)

    hist = one + "/history"
    st, _, _, j = c.call("GET", hist, None, adm, want=200)
    check(j is not None and [v["version"] for v in j["versions"]] == [1, 2],
          "history: versions 1 and 2")
    c.call("GET", hist, None, reg, want=200)
    c.call("HEAD", hist, None, vA, want=200)
    c.call("GET", "/api/v1/incidents/%s/no-such/history" % a, None, adm, want=404)
    c.call("GET", hist, None, admB, want=403)
    c.call("GET", hist, None, None, want=401)
    c.call("GET", hist + "?lang=ja", None, adm, want=400)
    c.call("GET", big_target(hist), None, adm, want=414)
    c.call("DELETE", hist, None, adm, want=405)


def classify(c, tok, ex):
    adm, iA, reg = tok[("admin", A)], tok[("ingest", A)], tok[("regulator", None)]
    C = "/api/v1/classify"
    c.call("POST", C, json.dumps(ex[1], ensure_ascii=False), adm, want=200)
    c.call("POST", C + "?lang=ja&now=2021-08-03T16:15:00%2B09:00",
           json.dumps(record(A, "live", ended=None)), tok[("viewer", B)], want=200,
           what="POST classify an ongoing incident, lang=ja, now")
    c.call("POST", C + "?rulebook=jp-2015", json.dumps(record(A, "x")), reg, want=200)
    body = "\n".join(json.dumps(r, ensure_ascii=False) for r in ex) + "\n"
    st, _, _, j = c.call("POST", C, body, reg, ctype="application/x-ndjson", want=200,
                         what="POST classify every example as JSON Lines")
    check(j is not None and j["rejected"] == 0 and len(j["results"]) == len(ex),
          "classify JSON Lines: one result per example")
    c.call("POST", C, body.replace('"services"', '"servicez"', 1), reg,
           ctype="application/x-ndjson", want=200, what="POST classify JSON Lines, one bad")
    c.call("POST", C, "[]\n{}\n", reg, ctype="application/x-ndjson", want=400,
           what="POST classify JSON Lines, every line bad")
    c.call("POST", C, '{"id": 5}', adm, want=400)
    c.call("POST", C, "", adm, want=400, what="POST classify an empty body")
    c.call("POST", C + "?rulebook=jp-1999", json.dumps(record(A, "x")), adm, want=400)
    c.call("POST", C + "?now=2021-02-30T00:00:00Z", json.dumps(record(A, "x")), adm, want=400)
    c.call("POST", C, json.dumps(record(A, "x")), iA, want=403)
    c.call("POST", C, json.dumps(record(A, "x")), None, want=401)
    c.call("POST", C, json.dumps(record(A, "x")), adm, ctype="application/xml", want=415)
    c.call("POST", C, "[" * 65537, adm, want=413)
    c.call("POST", big_target(C), "{}", adm, want=414)
    c.call("GET", C, None, adm, want=405)
    c.call("HEAD", C, None, adm, want=405)


def rules(c, tok):
    reg, vB, iA = tok[("regulator", None)], tok[("viewer", B)], tok[("ingest", A)]
    st, _, _, j = c.call("GET", "/api/v1/rules", None, reg, want=200)
    books = [b["id"] for b in j["rulebooks"]] if j else []
    check("jp-2019" in books, "rulebooks listed: %s" % books)
    c.call("HEAD", "/api/v1/rules", None, vB, want=200)
    c.call("GET", "/api/v1/rules", None, iA, want=403)
    c.call("GET", "/api/v1/rules", None, None, want=401)
    c.call("GET", "/api/v1/rules", None, "Basic dXNlcjpwYXNz", want=401,
           what="GET rules with a token that is no token")
    c.call("GET", "/api/v1/rules?lang=ja", None, reg, want=400)
    c.call("GET", big_target("/api/v1/rules"), None, reg, want=414)
    c.call("POST", "/api/v1/rules", "{}", reg, want=405)
    for book in books:
        c.call("GET", "/api/v1/rules/" + quote(book), None, vB, want=200)
    c.call("HEAD", "/api/v1/rules/jp-2019", None, vB, want=200)
    c.call("GET", "/api/v1/rules/jp-1999", None, reg, want=404)
    c.call("GET", "/api/v1/rules/jp-2019", None, iA, want=403)
    c.call("GET", "/api/v1/rules/jp-2019", None, None, want=401)
    c.call("GET", "/api/v1/rules/jp-2019?x=1", None, reg, want=400)
    c.call("GET", big_target("/api/v1/rules/jp-2019"), None, reg, want=414)
    c.call("DELETE", "/api/v1/rules/jp-2019", None, reg, want=405)


def reports(c, tok, ex):
    adm, vA, iA, reg = tok[("admin", A)], tok[("viewer", A)], tok[("ingest", A)], \
        tok[("regulator", None)]
    admB = tok[("admin", B)]
    a, b = quote(A), quote(B)
    F = "/api/v1/reports/fy/2021"
    c.call("GET", F, None, reg, want=200)
    for fmt in ("text", "md", "html", "csv", "json"):
        c.call("GET", F + "?format=%s&lang=ja" % fmt, None, reg, want=200)
    for table in ("overview", "matrix", "headline", "services", "causes", "equipment", "serious"):
        c.call("GET", F + "?table=" + table, None, reg, want=200)
    c.call("GET", F + "?format=csv&table=matrix", None, reg, want=200)
    c.call("GET", "/api/v1/reports/fy/1999", None, reg, want=200, what="GET the report of an empty year")
    c.call("HEAD", F, None, reg, want=200)
    c.call("GET", F, None, adm, want=200, what="GET the yearly report of its own operator (admin)")
    c.call("GET", F, None, vA, want=200, what="GET the yearly report of its own operator (viewer)")
    c.call("GET", F, None, iA, want=403)
    c.call("GET", F, None, None, want=401)
    c.call("GET", F + "?format=pdf", None, reg, want=400)
    c.call("GET", F + "?table=money", None, reg, want=400)
    c.call("GET", "/api/v1/reports/fy/21", None, reg, want=400)
    c.call("GET", big_target(F), None, reg, want=414)
    c.call("POST", F, "{}", reg, want=405)

    pep = [r for r in ex if r["id"] == "fy2021-02-pepabo"][0]
    I = "/api/v1/reports/incident/%s/%s" % (quote(pep["operator"]), pep["id"])
    c.call("GET", I, None, reg, want=200)
    c.call("GET", I + "?format=html&lang=ja", None, reg, want=200)
    c.call("GET", "/api/v1/reports/incident/%s/a-1?format=md" % a, None, vA, want=200)
    c.call("HEAD", I, None, reg, want=200)
    c.call("GET", "/api/v1/reports/incident/%s/no-such" % a, None, adm, want=404)
    c.call("GET", "/api/v1/reports/incident/%s/a-1" % a, None, admB, want=403)
    c.call("GET", I, None, iA, want=403)
    c.call("GET", I, None, None, want=401)
    c.call("GET", I + "?format=csv", None, reg, want=400)
    c.call("GET", big_target(I), None, reg, want=414)
    c.call("POST", I, "{}", reg, want=405)

    Q = "/api/v1/reports/quarter/2021/2"
    c.call("GET", Q, None, adm, want=200)
    c.call("GET", Q, None, reg, want=200)
    c.call("GET", Q + "?operator=" + b + "&format=json", None, reg, want=200)
    c.call("GET", Q + "?format=csv&lang=ja", None, vA, want=200)
    c.call("GET", Q + "?format=text", None, reg, want=200)
    c.call("HEAD", Q, None, reg, want=200)
    c.call("GET", Q + "?operator=" + a, None, admB, want=403)
    c.call("GET", Q, None, iA, want=403)
    c.call("GET", Q, None, None, want=401)
    c.call("GET", Q + "?format=html", None, reg, want=400)
    c.call("GET", "/api/v1/reports/quarter/2021/9", None, reg, want=400)
    c.call("GET", big_target(Q), None, reg, want=414)
    c.call("DELETE", Q, None, reg, want=405)


def notices(c, tok):
    """Drafts, publishing, the status page and feed: good, bad, every role."""
    a, b = quote(A), quote(B)
    adm, view, reg, admB = tok[("admin", A)], tok[("viewer", A)], tok[("regulator", None)], \
        tok[("admin", B)]
    rec = record(A, "n-1", ended=None, started="2021-08-03T15:00:00+09:00")
    c.call("POST", "/api/v1/incidents", json.dumps(rec), adm, want=201)
    d = "/api/v1/incidents/%s/n-1/notices/draft" % a
    pub = "/api/v1/incidents/%s/n-1/notices" % a
    now = "now=2021-08-03T15:20:00%2B09:00"
    for q, t in (("?kind=first&lang=ja&" + now, view), ("?kind=update&lang=en&" + now, reg),
                 ("?" + now, adm)):
        c.call("GET", d + q, None, t, want=200)
    c.call("HEAD", d + "?" + now, None, adm, want=200)
    c.call("GET", d + "?kind=recovery", None, adm, want=400)
    c.call("GET", d + "?kind=x", None, adm, want=400)
    c.call("GET", d + "?lang=fr", None, adm, want=400)
    c.call("GET", d + "?now=yesterday", None, adm, want=400)
    c.call("GET", d + "?foo=1", None, adm, want=400)
    c.call("GET", d, None, admB, want=403)
    c.call("GET", d, None, tok[("ingest", A)], want=403)
    c.call("GET", d, None, None, want=401)
    c.call("GET", "/api/v1/incidents/%s/none/notices/draft" % a, None, adm, want=404)
    c.call("POST", d, "{}", adm, want=405)
    st, _, body, draft = c.call("GET", d + "?kind=first&" + now, None, adm, want=200)
    good = json.dumps(dict(draft, channel="web", at="2021-08-03T15:31:00+09:00"))
    c.call("POST", pub, good, view, want=403)
    c.call("POST", pub, good, admB, want=403)
    c.call("POST", pub, good, None, want=401)
    c.call("POST", pub, good, adm, ctype="text/plain", want=415)
    c.call("POST", pub, "x" * 70000, adm, want=413)
    for bad in ("{", "[]", json.dumps(dict(draft, kind="x")), json.dumps(dict(draft, body="")),
                json.dumps(dict(draft, channel="fax")), json.dumps(dict(draft, at="soon")),
                json.dumps(dict(draft, other=1))):
        c.call("POST", pub, bad, adm, want=400)
    c.call("POST", "/api/v1/incidents/%s/none/notices" % a, good, adm, want=404)
    c.call("GET", pub, None, adm, want=405)
    c.call("POST", pub, good, adm, want=201)
    # the public pages: no token, HTML and Atom, validators, 304
    for target in ("/status/" + a, "/status/%s/feed.atom" % a):
        st, h, _, _ = c.call("GET", target, want=200)
        c.call("GET", target + "?lang=en", want=200)
        c.call("HEAD", target, want=200)
        c.call("GET", target, headers={"If-None-Match": h.get("etag", "")}, want=304)
        c.call("GET", target + "?lang=fr", want=400)
        c.call("GET", target + "?utm_source=x&fbclid=1", want=200)  # trackers: ignored
        c.call("GET", target + "?utm_source=x&lang=fr", want=400)
        c.call("POST", target, "{}", adm, want=405)
    c.call("GET", "/status/" + quote("No Such Operator"), want=404)
    c.call("GET", "/status/%s/feed.atom" % quote("No Such Operator"), want=404)
    c.call("GET", "/status/" + b, None, adm, want=(200, 404),
           what="GET /status/{B} with a token (ignored)")
    for method, target in (("GET", "/status/" + a), ("GET", "/status/%s/feed.atom" % a),
                           ("GET", d), ("POST", pub)):
        c.call(method, big_target(target), good if method == "POST" else None, adm, want=414)


def dashboard(c, tok):
    """The dashboard's page and files, who a token is, an incident's live
    series (none here: the server has no live engine watches)."""
    adm, vA, iA, reg = tok[("admin", A)], tok[("viewer", A)], tok[("ingest", A)], \
        tok[("regulator", None)]
    st, h, _, _ = c.call("GET", "/", want=200, what="GET the dashboard without a token")
    check("default-src 'self'" in h.get("content-security-policy", ""),
          "the dashboard's page carries its Content-Security-Policy")
    c.call("GET", "/", None, None, headers={"If-None-Match": h.get("etag", "")}, want=304,
           what="GET the dashboard again with its ETag")
    # the same If-None-Match matching as the API's answers: a list, and "*"
    c.call("GET", "/", None, None, headers={"If-None-Match": '"0", ' + h.get("etag", "")}, want=304,
           what="GET the dashboard with its ETag in a list")
    c.call("GET", "/", None, None, headers={"If-None-Match": '"0"'}, want=200,
           what="GET the dashboard with another ETag")
    c.call("GET", "/", None, None, headers={"If-None-Match": "*"}, want=304,
           what="GET the dashboard with If-None-Match: *")
    c.call("HEAD", "/", want=200)
    c.call("GET", big_target("/"), want=414)
    for f in ("app.js", "app.css", "i18n.js", "uPlot.iife.min.js", "uPlot.min.css"):
        c.call("GET", "/web/" + f, want=200, what="GET the dashboard's " + f)
    c.call("GET", "/web/nothing.js", want=404)
    c.call("GET", "/web/..%2Fjiko.db", want=404, what="GET a file outside the dashboard's")
    c.call("POST", "/", "{}", None, want=405)
    for t, role in ((adm, "admin"), (vA, "viewer"), (iA, "ingest"), (reg, "regulator")):
        st, _, _, j = c.call("GET", "/api/v1/whoami", None, t, want=200)
        check(j is not None and j.get("role") == role and
              j.get("operator") == (None if role == "regulator" else A),
              "whoami of the %s token: %s" % (role, j))
    c.call("GET", "/api/v1/whoami", want=401)
    S = "/api/v1/incidents/%s/a-1/series" % quote(A)
    st, _, _, j = c.call("GET", S, None, vA, want=200)
    check(j is not None and j.get("series") == [] and j.get("alarms") == [] and
          j.get("known") is False,
          "the series of an incident entered by hand: none")
    c.call("GET", S, None, reg, want=200)
    c.call("GET", S, None, iA, want=403)
    c.call("GET", S, None, tok[("admin", B)], want=403)
    c.call("GET", "/api/v1/incidents/%s/no-such/series" % quote(A), None, adm, want=404)
    c.call("GET", "/api/v1/incidents?order=newest&limit=2", None, reg, want=200)
    c.call("GET", "/api/v1/incidents?order=sideways", None, reg, want=400)


def unmatched(c, tok):
    adm = tok[("admin", A)]
    for path in ("/nothing", "/api/v1/nothing", "/api/v2/incidents", "/api/v1/incidents/",
                 "/api/v1/incidents/a/b/c/d", "/healthz/"):
        c.call("GET", path, None, adm, want=404)
    c.call("GET", "/api/v1/nothing%zz", None, adm, want=400)
    c.call("GET", big_target("/api/v1/nothing"), None, adm, want=414)
    c.raw("GET", "/api/v1/nothing", BIG_HEADER, "GET /api/v1/nothing with 40 KB of headers",
          want=431)


def every_route(a):
    """(method, target) of every operation, with an operator's incident."""
    return [("GET", "/healthz"), ("GET", "/metrics"), ("GET", "/api/v1/incidents"),
            ("POST", "/api/v1/incidents"), ("GET", "/api/v1/incidents/%s/a-1" % a),
            ("GET", "/api/v1/incidents/%s/a-1/history" % a), ("POST", "/api/v1/classify"),
            ("GET", "/api/v1/rules"), ("GET", "/api/v1/rules/jp-2019"),
            ("GET", "/api/v1/reports/fy/2021"), ("GET", "/api/v1/reports/incident/%s/a-1" % a),
            ("GET", "/api/v1/reports/quarter/2021/2"),
            ("GET", "/api/v1/incidents/%s/a-1/notices/draft" % a),
            ("POST", "/api/v1/incidents/%s/a-1/notices" % a),
            ("GET", "/status/%s" % a), ("GET", "/status/%s/feed.atom" % a),
            ("GET", "/api/v1/incidents/%s/a-1/series" % a), ("GET", "/api/v1/whoami")]


def headers_too_large(c, tok):
    auth = b"Authorization: Bearer " + tok[("regulator", None)].encode() + b"\r\n"
    for method, target in every_route(quote(A)):
        c.raw(method, target, auth + BIG_HEADER, "%s %s with 40 KB of headers" % (method, target),
              want=431)


def registry_failure(c, srv, tok):
    """The token list cannot be read from the registry: every call that
    needs a token answers 500 (kind store); /healthz still 200."""
    reg, adm = tok[("regulator", None)], tok[("admin", A)]
    db = sqlite3.connect(srv.db, timeout=10)
    with db:
        db.execute("ALTER TABLE api_token RENAME TO api_token_away")
    try:
        time.sleep(1.2)  # token_refresh_ms 1000: the next call reads the list again
        for method, target in every_route(quote(A))[2:]:
            if target.startswith("/status/"):  # public: no token list to read
                continue
            body = json.dumps(record(A, "a-9")) if method == "POST" else None
            c.call(method, target, body, adm if "incidents" in target else reg, want=500,
                   what="%s %s while the registry fails" % (method, target))
        c.call("GET", "/healthz", want=200, what="GET /healthz while the registry fails")
    finally:
        with db:
            db.execute("ALTER TABLE api_token_away RENAME TO api_token")
        db.close()
    time.sleep(1.2)
    c.call("GET", "/api/v1/rules", None, reg, want=200, what="GET rules once the registry is back")
    # the public pages read incidents, not tokens: break the incident table
    db = sqlite3.connect(srv.db, timeout=10)
    with db:
        db.execute("ALTER TABLE incident_version RENAME TO incident_version_away")
    try:
        # an operator not asked for before: the server keeps public pages a
        # few seconds (page_cache.h), and one asked for would come from there
        for target in ("/status/" + quote("Fresh Op"), "/status/%s/feed.atom" % quote("Fresh Op")):
            c.call("GET", target, want=500, what="GET %s while the registry fails" % target)
    finally:
        with db:
            db.execute("ALTER TABLE incident_version_away RENAME TO incident_version")
        db.close()


def broken_record(c, srv, tok):
    """A stored record that no longer validates: the calls that classify it
    answer 500 (kind store)."""
    reg, admB = tok[("regulator", None)], tok[("admin", B)]
    db = sqlite3.connect(srv.db, timeout=10)
    with db:
        n = db.execute("UPDATE incident_version SET record = ? WHERE key = (SELECT key FROM incident"
                       " WHERE operator = ? AND id = ?)",
                       ('{"id": "b-2", "operator": "%s"}' % B, B, "b-2")).rowcount
    db.close()
    check(n == 1, "registry: the record of b-2 broken by hand")
    b = quote(B)
    c.call("GET", "/api/v1/incidents/%s/b-2" % b, None, admB, want=500)
    c.call("GET", "/api/v1/reports/incident/%s/b-2" % b, None, reg, want=500)
    c.call("GET", "/api/v1/reports/quarter/2021/2?operator=" + b, None, reg, want=500)
    c.call("GET", "/api/v1/incidents/%s/b-2/history" % b, None, admB, want=200,
           what="GET history of the broken record (shown as stored)")
    c.call("GET", "/api/v1/incidents?operator=" + b, None, admB, want=200)


def until_429(send, most=40):
    """Statuses of requests sent until one is 429 (at most `most`)."""
    seen = []
    for i in range(most):
        seen.append(send(i))
        if seen[-1] == 429:
            break
    return seen


def limits(conf):
    """429 and 503 on a server configured tight."""
    srv = Server(JIKO, conf="rate = 5\nburst = 5\nmax_inflight = 1\nconnection_timeout_s = 5\n")
    t = srv.token("regulator")
    t2 = srv.token("regulator")
    t3 = srv.token("admin", A)
    srv.start()
    try:
        c = Client(srv, conf)
        statuses = until_429(lambda i: c.call("GET", "/api/v1/rules", None, t)[0])
        check(429 in statuses, "rate 5/s burst 5: 429 among %s" % statuses)
        st = until_429(lambda i: c.call("POST", "/api/v1/classify", json.dumps(record(A, "x")),
                                        t)[0])
        check(429 in st, "rate limit on POST: %s" % st)
        # admission: one request in progress (its body still coming)
        s = socket.create_connection(("127.0.0.1", srv.port))
        s.sendall(("POST /api/v1/classify HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                   "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{" % t2).encode())
        time.sleep(0.3)
        got = set()
        for target, body, tk in (("/api/v1/rules", None, t2),
                                 ("/api/v1/incidents?limit=1", None, t3),
                                 ("/api/v1/incidents", json.dumps(record(A, "y")), t3),
                                 ("/api/v1/classify", json.dumps(record(A, "y")), t3),
                                 ("/api/v1/rules/jp-2019", None, t3),
                                 ("/api/v1/incidents/%s/x" % quote(A), None, t3),
                                 ("/api/v1/incidents/%s/x/history" % quote(A), None, t3),
                                 ("/api/v1/reports/fy/2021", None, t2),
                                 ("/api/v1/reports/incident/%s/x" % quote(A), None, t3),
                                 ("/api/v1/reports/quarter/2021/2", None, t3),
                                 ("/api/v1/incidents/%s/x/notices/draft" % quote(A), None, t3),
                                 ("/api/v1/incidents/%s/x/notices" % quote(A), "{}", t3),
                                 ("/status/" + quote(A), None, None),
                                 ("/status/%s/feed.atom" % quote(A), None, None)):
            method = "POST" if body else "GET"
            got.add(c.call(method, target, body, tk, want=503,
                           what="%s %s while at max_inflight" % (method, target))[0])
        c.call("GET", "/healthz", want=200, what="GET /healthz while at max_inflight")
        c.call("GET", "/metrics", want=200, what="GET /metrics while at max_inflight")
        s.close()
        time.sleep(0.5)
        # 429 on every token-taking GET route with a token of its own
        for target in ("/api/v1/incidents", "/api/v1/incidents/%s/x" % quote(A),
                       "/api/v1/incidents/%s/x/history" % quote(A), "/api/v1/rules/jp-2019",
                       "/api/v1/reports/incident/%s/x" % quote(A),
                       "/api/v1/reports/quarter/2021/2",
                       "/api/v1/incidents/%s/x/notices/draft" % quote(A)):
            seen = until_429(lambda i: c.call("GET", target, None, t3)[0])
            check(429 in seen, "429 on GET %s: %s" % (target, seen))
            time.sleep(1.2)
        seen = until_429(lambda i: c.call("POST", "/api/v1/incidents",
                                          json.dumps(record(A, "r-%d" % i)), t3)[0])
        check(429 in seen, "429 on POST /api/v1/incidents: %s" % seen)
        time.sleep(1.2)
        seen = until_429(lambda i: c.call("POST", "/api/v1/incidents/%s/x/notices" % quote(A),
                                          "{}", t3)[0])
        check(429 in seen, "429 on POST .../notices: %s" % seen)
        # the public pages: a bucket per client address, not per token
        for target in ("/status/" + quote(A), "/status/%s/feed.atom" % quote(A)):
            time.sleep(1.2)
            seen = until_429(lambda i: c.call("GET", target)[0])
            check(429 in seen, "429 on GET %s (per address): %s" % (target, seen))
        time.sleep(1.2)
        seen = until_429(lambda i: c.call("GET", "/api/v1/reports/fy/2021", None, t)[0])
        check(429 in seen, "429 on GET /api/v1/reports/fy/{year}: %s" % seen)
    finally:
        check(srv.stop() == 0, "tight server: clean exit on SIGTERM")


if __name__ == "__main__":
    sys.exit(main())
