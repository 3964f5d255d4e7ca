#!/usr/bin/env python3
"""test_notices.py JIKO — public notices through `jiko serve`: a draft (初報 in
Japanese, an update in English), publishing it (a new version in the history
with the notice), the public status page without JavaScript and its Atom feed
(parsed with xml.etree, every element RFC 4287 requires), a wholesale provider's
notice on its receiver's page, caching validators (ETag, 304), who may do what
(a viewer cannot publish, another operator cannot read the draft, the public
pages need no token) and bad input (400 naming the field)."""
import datetime
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jikoserve import Checks, Server, quote  # noqa: E402

JIKO = os.path.abspath(sys.argv[1])
check = Checks()
ATOM = "{http://www.w3.org/2005/Atom}"

P = "株式会社プロバイダ<&\"通信>"   # a provider whose name needs escaping in HTML and XML
R = "Reseller ISP"                   # receives P's service wholesale
O = "株式会社ほか"                   # another operator


def jbody(obj):
    return obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False)


def jst(dt):
    return dt.astimezone(datetime.timezone(datetime.timedelta(hours=9))).isoformat(timespec="seconds")


def main():
    srv = Server(JIKO, conf="rate = 0\n")
    srv.start()
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    start = now - datetime.timedelta(hours=1)
    tok = {(role, op): srv.token(role, op) for role in ("admin", "viewer") for op in (P, R, O)}
    reg = srv.token("regulator")
    try:
        run(srv, tok, reg, now, start)
    finally:
        rc = srv.stop()
        check(rc == 0, "SIGTERM: clean exit (%s)" % rc)
    print("%d checks, %d failure(s)" % (check.n, check.failed))
    return 1 if check.failed else 0


def run(srv, tok, reg, now, start):
    p, r, o = quote(P), quote(R), quote(O)
    ongoing = {"id": "out-1", "operator": P, "started_at": jst(start), "region": "東京都",
               "services": [{"service": "ftth", "effect": "stop", "users": 120000,
                             "wholesale_to": [{"operator": R, "users": 30000}]}],
               "cause": {"category": "equipment", "detail": "L3スイッチの故障 <x> & \"y\""}}
    st, _, res = srv.json("POST", "/api/v1/incidents", jbody(ongoing), tok[("admin", P)])
    check(st == 201, "provider's ongoing incident stored (%s)" % st)
    # the receiver's own record, linked by wholesale_provider and the same start
    linked = dict(ongoing, id="rx-1", operator=R, wholesale_provider=P,
                  services=[{"service": "ftth", "effect": "stop", "users": 30000}])
    st, _, _ = srv.json("POST", "/api/v1/incidents", jbody(linked), tok[("admin", R)])
    check(st == 201, "receiver's linked incident stored (%s)" % st)
    # an old incident of O: O is known, but nothing of it is public
    old = {"id": "old-1", "operator": O, "started_at": "2021-08-03T15:00:00+09:00",
           "ended_at": "2021-08-03T17:25:00+09:00",
           "services": [{"service": "email_paid", "effect": "stop", "users": 456516}],
           "notices": [{"at": "2021-08-03T15:31:00+09:00", "kind": "first", "channel": "web",
                        "text": "old notice"}]}
    srv.json("POST", "/api/v1/incidents", jbody(old), tok[("admin", O)])

    base = "/api/v1/incidents/%s/out-1" % p
    # ---- before any notice: nothing public ----
    st, h, body = srv.request("GET", "/status/" + p)
    check(st == 200 and b"out-1" not in body and "L3スイッチ".encode() not in body,
          "status page without a published notice: the incident is not shown (%s)" % st)

    # ---- drafts ----
    st, _, d = srv.json("GET", base + "/notices/draft?kind=first&lang=ja", token=tok[("viewer", P)])
    check(st == 200 and d["kind"] == "first" and d["lang"] == "ja", "viewer: 初報 draft (%s)" % st)
    check("【お詫び】" in d["title"] and "FTTH" in d["title"].upper(), "初報 title: %s" % d["title"])
    start_ja = "%d年%d月%d日（" % (start.astimezone(datetime.timezone(datetime.timedelta(hours=9))).year,
                                 start.astimezone(datetime.timezone(datetime.timedelta(hours=9))).month,
                                 start.astimezone(datetime.timezone(datetime.timedelta(hours=9))).day)
    for want in ("■発生日時", start_ja, "■影響エリア　東京都", "■影響利用者数　120,000人",
                 "■次回のお知らせ", "確認中" if False else "L3スイッチの故障", "深くお詫び申し上げます"):
        check(want in d["body"], "初報 body holds %r" % want)
    st, _, de = srv.json("GET", base + "/notices/draft?kind=update&lang=en", token=reg)
    check(st == 200 and "Next update: by " in de["body"] and " JST, " in de["body"],
          "regulator: English update with the next update's time (%s)" % st)
    st, _, e = srv.json("GET", base + "/notices/draft?kind=recovery", token=tok[("admin", P)])
    check(st == 400 and e["error"]["field"] == "kind", "recovery draft of an ongoing incident: 400 kind")
    st, _, e = srv.json("GET", base + "/notices/draft?kind=first", token=tok[("viewer", O)])
    check(st == 403 and e["error"]["field"] == "operator",
          "another operator's token cannot read the draft: 403 operator (%s)" % st)
    st, _, e = srv.json("GET", base + "/notices/draft?kind=second", token=tok[("admin", P)])
    check(st == 400 and e["error"]["field"] == "kind", "kind=second: 400 kind")
    st, _, e = srv.json("GET", base + "/notices/draft?lang=fr", token=tok[("admin", P)])
    check(st == 400 and e["error"]["field"] == "lang", "lang=fr: 400 lang")
    st, _, e = srv.json("GET", "/api/v1/incidents/%s/nope/notices/draft" % p, token=tok[("admin", P)])
    check(st == 404, "draft of an unknown incident: 404")
    st, _, e = srv.json("GET", base + "/notices/draft", token=None)
    check(st == 401, "draft without a token: 401")

    # ---- publishing ----
    notice = dict(d)
    notice["body"] = d["body"] + "\n<b>edited</b> & \"quoted\""
    st, _, e = srv.json("POST", base + "/notices", jbody(notice), tok[("viewer", P)])
    check(st == 403, "a viewer cannot publish: 403 (%s)" % st)
    st, _, e = srv.json("POST", base + "/notices", jbody(notice), tok[("admin", O)])
    check(st == 403 and e["error"]["field"] == "operator", "another operator's admin: 403 operator")
    for bad, field in ((dict(notice, kind="later"), "kind"), (dict(notice, body="  \n"), "body"),
                       (dict(notice, lang="de"), "lang"), (dict(notice, channel="fax"), "channel"),
                       (dict(notice, at="yesterday"), "at"), (dict(notice, extra=1), "body"),
                       ({k: v for k, v in notice.items() if k != "body"}, "body")):
        st, _, e = srv.json("POST", base + "/notices", jbody(bad), tok[("admin", P)])
        check(st == 400 and e["error"]["field"] == field, "bad notice: 400 field %s (%s %s)"
              % (field, st, e and e["error"].get("field")))
    st, _, e = srv.json("POST", base + "/notices", jbody("{not json"), tok[("admin", P)])
    check(st == 400 and e["error"]["field"] == "body", "malformed JSON: 400 body")
    st, _, e = srv.json("POST", "/api/v1/incidents/%s/nope/notices" % p, jbody(notice), tok[("admin", P)])
    check(st == 404, "publish to an unknown incident: 404")
    st, _, e = srv.json("GET", base + "/notices", token=tok[("admin", P)])
    check(st == 405, "GET on /notices: 405")
    st, _, res = srv.json("POST", base + "/notices", jbody(notice), tok[("admin", P)])
    check(st == 201 and res["version"] == 2 and res["notice"]["kind"] == "first"
          and res["notice"]["channel"] == "web", "admin publishes the 初報: 201, version 2 (%s)" % st)
    st, _, hist = srv.json("GET", base + "/history", token=tok[("admin", P)])
    vs = hist["versions"]
    check(len(vs) == 2 and "notices" not in vs[0]["record"] and
          vs[1]["record"]["notices"][0]["text"] == notice["body"] and
          vs[1]["record"]["notices"][0]["title"] == d["title"] and
          "published through the API" in vs[1]["reason"],
          "history: version 2 holds the notice, with its provenance")
    # an update in English, on SNS
    st, _, res = srv.json("POST", base + "/notices", jbody(dict(de, channel="sns")), tok[("admin", P)])
    check(st == 201 and res["version"] == 3, "the English update published: version 3")

    # ---- the status page ----
    st, h, page = srv.request("GET", "/status/" + p)
    html = page.decode()
    check(st == 200 and h["content-type"].startswith("text/html"), "status page: 200 HTML")
    check("<script" not in html, "status page has no script")
    check("&lt;b&gt;edited&lt;/b&gt; &amp; &quot;quoted&quot;" in html,
          "status page shows the published text, escaped")
    check("株式会社プロバイダ&lt;&amp;&quot;通信&gt;" in html and P not in html,
          "the operator's name is escaped")
    check(html.index("初報") < html.index("続報"), "notices in time order")
    check("L3スイッチ" not in html.split("<article")[0], "nothing of the record before the notices")
    check(h.get("cache-control") == "public, max-age=60" and h.get("etag") and h.get("last-modified"),
          "status page: Cache-Control, ETag, Last-Modified (%s)" % h.get("cache-control"))
    st2, h2, b2 = srv.request("GET", "/status/" + p, headers={"If-None-Match": h["etag"]})
    check(st2 == 304 and b2 == b"", "If-None-Match with the ETag: 304 without a body (%s)" % st2)
    st, _, en = srv.request("GET", "/status/%s?lang=en" % p)
    check(st == 200 and b'lang="en"' in en and b"Current incidents" in en, "?lang=en: English page")
    st, _, _ = srv.request("GET", "/status/%s?lang=xx" % p)
    check(st == 400, "?lang=xx: 400")
    # a link shared on social media comes back with trackers: the same page
    st, h3, tracked = srv.request("GET", "/status/%s?utm_source=x&fbclid=IwAR0%%ZZ" % p)
    check(st == 200 and tracked == page and h3.get("etag") == h["etag"],
          "trackers in the query: the same page and ETag (%s)" % st)
    st, _, tracked_en = srv.request("GET", "/status/%s?ref=mail&lang=en" % p)
    check(st == 200 and tracked_en == en, "?ref=mail&lang=en: the English page")
    st, h, nf = srv.request("GET", "/status/" + quote("No Such Operator"))
    check(st == 404 and h["content-type"].startswith("text/html"), "unknown operator: 404 page")
    st, _, op_page = srv.request("GET", "/status/" + o)
    check(st == 200 and b"old notice" not in op_page,
          "an incident that ended long ago is not on the page")
    # a report published today about that old incident is news: it shows
    st, _, _ = srv.json("POST", "/api/v1/incidents/%s/old-1/notices" % o,
                        jbody({"kind": "recovery", "body": "再発防止策のご報告"}), tok[("admin", O)])
    st, _, op_page = srv.request("GET", "/status/" + o)
    check(st == 200 and "再発防止策のご報告".encode() in op_page and b"old notice" in op_page,
          "a notice published today about an old incident puts it on the page, with its notices")
    st, h, hd = srv.request("HEAD", "/status/" + p)
    check(st == 200 and hd == b"", "HEAD on the status page")

    # ---- the Atom feed ----
    st, h, feed = srv.request("GET", "/status/%s/feed.atom" % p)
    check(st == 200 and h["content-type"].startswith("application/atom+xml"), "feed: 200 Atom")
    root = ET.fromstring(feed)
    check(root.tag == ATOM + "feed", "feed root is atom:feed")
    for el in ("id", "title", "updated"):
        check(root.find(ATOM + el) is not None and (root.find(ATOM + el).text or "").strip(),
              "feed has atom:%s" % el)
    check(root.find(ATOM + "author/" + ATOM + "name").text == P, "feed author is the operator")
    rels = {l.get("rel"): l.get("href") for l in root.findall(ATOM + "link")}
    check(rels.get("self", "").endswith("/feed.atom") and rels.get("alternate"), "feed links self and alternate")
    entries = root.findall(ATOM + "entry")
    check(len(entries) == 2, "one entry per published notice (%d)" % len(entries))
    ids = set()
    for en_ in entries:
        for el in ("id", "title", "updated"):
            check(en_.find(ATOM + el) is not None and en_.find(ATOM + el).text,
                  "entry has atom:%s" % el)
        check(en_.find(ATOM + "content") is not None or en_.find(ATOM + "link") is not None,
              "entry has content or link")
        ids.add(en_.find(ATOM + "id").text)
        check(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", en_.find(ATOM + "updated").text),
              "entry updated is an RFC 3339 date")
    check(len(ids) == 2 and all(i.startswith("tag:") for i in ids), "entry ids are distinct tag: URIs")
    langs = sorted(e_.get("{http://www.w3.org/XML/1998/namespace}lang") for e_ in entries)
    check(langs == ["en", "ja"], "each entry says the language it was written in: %s" % langs)
    times = [e_.find(ATOM + "updated").text for e_ in entries]
    check(times == sorted(times, reverse=True), "entries newest first: %s" % times)
    texts = [e_.find(ATOM + "content").text for e_ in entries]
    check(notice["body"] in texts, "the 初報's text is an entry's content, unescaped by the parser")
    st, _, feed2 = srv.request("GET", "/status/%s/feed.atom" % p)
    check(set(e_.find(ATOM + "id").text for e_ in ET.fromstring(feed2).findall(ATOM + "entry")) == ids,
          "entry ids are stable")

    # ---- the wholesale receiver's page ----
    st, _, rp = srv.request("GET", "/status/" + r)
    check(st == 200 and "&lt;b&gt;edited&lt;/b&gt;" in rp.decode(),
          "the receiver's page shows the provider's notice")
    st, _, rf = srv.request("GET", "/status/%s/feed.atom" % r)
    check(len(ET.fromstring(rf).findall(ATOM + "entry")) == 2, "and so does its feed")

    # ---- recovery ----
    ended = dict(ongoing, ended_at=jst(now))
    st, _, cur = srv.json("GET", base, token=tok[("admin", P)])
    ended["notices"] = cur["incident"]["record"]["notices"]
    st, _, _ = srv.json("POST", "/api/v1/incidents", jbody(ended), tok[("admin", P)])
    st, _, dr = srv.json("GET", base + "/notices/draft", token=tok[("admin", P)])
    check(st == 200 and dr["kind"] == "recovery" and "■復旧日時" in dr["body"] and
          "【お詫び／復旧】" in dr["title"] and "次回のお知らせ" not in dr["body"],
          "ended incident: the default draft is the 復旧報, with 復旧日時 (%s)" % st)
    st, _, res = srv.json("POST", base + "/notices", jbody(dr), tok[("admin", P)])
    check(st == 201 and res["version"] == 5, "復旧報 published: version 5 (%s)" % st)
    st, _, page = srv.request("GET", "/status/" + p)
    html = page.decode()
    check("復旧報" in html and html.index("過去90日間") < html.index("復旧報"),
          "the recovered incident moved to the last 90 days, with its 復旧報")


if __name__ == "__main__":
    sys.exit(main())
