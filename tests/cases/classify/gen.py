#!/usr/bin/env python3
"""Writes the data-driven classification cases (boundaries, deadlines,
rulebook selection, ongoing incidents, forms).  Each expectation below is
written out by hand from docs/domain.md and the rulebooks, not computed by
jiko; the script only saves typing.  Run it after editing:
    python3 tests/cases/classify/gen.py
"""
import json, os

HERE = os.path.dirname(os.path.abspath(__file__))
START = "2021-08-03T10:00:00+09:00"   # FY2021 Q2, jp-2019


def at(seconds, start=START):
    """RFC 3339 in JST, `seconds` after 10:00 on the start day (same day or later)."""
    import datetime
    jst = datetime.timezone(datetime.timedelta(hours=9))
    base = datetime.datetime.fromisoformat(start)
    return (base + datetime.timedelta(seconds=seconds)).astimezone(jst).isoformat()


H = 3600
M = 60


def inc(name, svcs, dur, start=START, **kw):
    """svcs: list of (code, users) or (code, users, effect)."""
    rec = {"id": name, "operator": "Test Operator", "started_at": start,
           "ended_at": at(dur, start) if dur is not None else None,
           "services": [{"service": s[0], "effect": s[2] if len(s) > 2 else "stop", "users": s[1]}
                        for s in svcs]}
    rec.update(kw)
    return rec


def case(name, incident, expect, **kw):
    c = {"name": name, "incident": incident, "expect": expect}
    c.update(kw)
    return c


# A serious accident owes no quarterly report (jp-2019: serious_quarterly_duty
# = no, MIC's page on the quarterly report), so its due has no "quarterly".
SERIOUS_Q2 = {"written": "2021-09-02"}


def serious(cats, prompt_after, start=START):
    return {"report": "serious", "serious_categories": cats,
            "due": {"prompt": at(prompt_after, start), **SERIOUS_Q2}}


DETAILED = {"report": "detailed", "serious_categories": [], "quarterly_clauses": ["telecom"],
            "due": {"quarterly": "2021-11-30"}}
NONE = {"report": "none", "serious_categories": [], "quarterly_clauses": [], "due": {}}


def boundaries():
    out = []
    # (category, service, [(duration, users)]) — each threshold line of jp-2019
    lines = [
        ("1", "mobile_voice", [(1 * H, 30000)]),
        ("1", "analog_phone", [(1 * H, 30000)]),
        ("2", "ip_phone_050", [(2 * H, 30000), (1 * H, 100000)]),
        ("3", "lpwa_cellular", [(12 * H, 30000), (2 * H, 1000000)]),
        ("4", "email_free", [(24 * H, 100000), (12 * H, 1000000)]),
        ("5", "ftth", [(2 * H, 30000), (1 * H, 1000000)]),
        ("5", "email_paid", [(2 * H, 30000), (1 * H, 1000000)]),
    ]
    for cat, svc, ths in lines:
        for d, u in ths:
            tag = f"cat{cat}-{svc}-{d // H}h-{u}"
            out.append(case(f"{tag} exactly at the threshold", inc(tag, [(svc, u)], d),
                            serious([cat], d)))
            # one second below: not serious unless another line catches it
            below_d = d - 1
            other = [(d2, u2) for d2, u2 in ths if (d2, u2) != (d, u) and below_d >= d2 and u >= u2]
            assert not other
            q = u >= 30000 or below_d >= 2 * H
            out.append(case(f"{tag} one second below", inc(tag + "-1s", [(svc, u)], below_d),
                            DETAILED if q else NONE))
            # one user below
            below_u = u - 1
            other = [(d2, u2) for d2, u2 in ths if (d2, u2) != (d, u) and d >= d2 and below_u >= u2]
            if other:
                d2 = min(x[0] for x in other)
                exp = serious([cat], d2)
            else:
                exp = DETAILED if (below_u >= 30000 or d >= 2 * H) else NONE
            out.append(case(f"{tag} one user below", inc(tag + "-1u", [(svc, below_u)], d), exp))
    # degradation counts the same as stoppage (FY2008 on)
    out.append(case("cat5 degradation at the threshold",
                    inc("degrade-5", [("mobile_data", 30000, "degrade")], 2 * H), serious(["5"], 2 * H)))
    # critical facility clause (users do not matter)
    sat = dict(critical_facility="satellite", all_traffic_stopped=True)
    out.append(case("satellite all traffic stopped exactly 2h",
                    inc("sat-2h", [("leased_line", 9)], 2 * H, **sat),
                    {**serious(["critical"], 2 * H), "quarterly_clauses": ["telecom"]}))
    out.append(case("satellite all traffic stopped 2h minus 1s",
                    inc("sat-2h-1s", [("leased_line", 9)], 2 * H - 1, **sat), NONE))
    out.append(case("submarine cable all traffic stopped 2h",
                    inc("cable-2h", [("leased_line", 1)], 2 * H, critical_facility="submarine_cable",
                        all_traffic_stopped=True), serious(["critical"], 2 * H)))
    out.append(case("other critical facility all traffic stopped 2h",
                    inc("crit-other-2h", [("leased_line", 1)], 2 * H, critical_facility="other",
                        all_traffic_stopped=True), serious(["critical"], 2 * H)))
    out.append(case("satellite 2h but not all traffic stopped: quarterly only",
                    inc("sat-partial", [("leased_line", 9)], 2 * H, critical_facility="satellite"),
                    DETAILED))
    # quarterly clauses
    out.append(case("quarterly telecom: 30000 users for one second",
                    inc("q-30000-1s", [("ftth", 30000)], 1), DETAILED))
    out.append(case("quarterly telecom: 29999 users, 1h59m59s",
                    inc("q-none", [("ftth", 29999)], 2 * H - 1), NONE))
    out.append(case("quarterly telecom: 1 user for 2h",
                    inc("q-2h-1u", [("ftth", 1)], 2 * H), DETAILED))
    out.append(case("quarterly telecom: 0 users for 0s",
                    inc("q-zero", [("ftth", 0)], 0), NONE))
    nt = {"report": "detailed", "serious_categories": [], "quarterly_clauses": ["non_telecom"],
          "due": {"quarterly": "2021-11-30"}}
    out.append(case("non-telecom facility: 30000 users", inc("nt-30000", [("ftth", 30000)], 60, facility="non_telecom"), nt))
    out.append(case("non-telecom facility: 2h", inc("nt-2h", [("ftth", 1)], 2 * H, facility="non_telecom"), nt))
    out.append(case("non-telecom facility: 29999 users 1h59m59s", inc("nt-none", [("ftth", 29999)], 2 * H - 1, facility="non_telecom"), NONE))
    out.append(case("non-telecom facility is never serious under clause 1",
                    inc("nt-big", [("ftth", 5000000)], 48 * H, facility="non_telecom"), nt))
    leak = {"report": "detailed", "serious_categories": [], "quarterly_clauses": ["info_leak"],
            "due": {"quarterly": "2021-11-30"}}
    out.append(case("information leak with no service affected", inc("leak", [], 0, info_leak=True), leak))
    out.append(case("information leak plus a small outage",
                    inc("leak2", [("ftth", 10)], 60, info_leak=True, equipment="radio_base_station"), leak))
    out.append(case("leak and a telecom outage meeting the quarterly line",
                    inc("leak3", [("ftth", 40000)], 60, info_leak=True),
                    {"report": "detailed", "quarterly_clauses": ["telecom", "info_leak"]}))
    return out


def multi():
    out = []
    out.append(case("multi-service: voice cat1 and data cat5 both serious (docomo pattern)",
                    inc("multi-1-5", [("mobile_voice", 1000000), ("mobile_data", 1000000)], 2 * H + 20 * M),
                    {"report": "serious", "serious_categories": ["1", "5"]}))
    out.append(case("multi-service: only the voice service meets its category",
                    inc("multi-1", [("mobile_voice", 30000), ("mobile_data", 30000)], 1 * H + 30 * M),
                    {"report": "serious", "serious_categories": ["1"], "due": {"prompt": at(H), **SERIOUS_Q2}}))
    out.append(case("multi-service: free mail (cat4) long but small, paid mail (cat5) serious",
                    inc("multi-4-5", [("email_free", 90000), ("email_paid", 30000)], 3 * H),
                    {"report": "serious", "serious_categories": ["5"]}))
    out.append(case("multi-service: two cat5 services below 30000 each, incident total 45000",
                    inc("multi-sum", [("ftth", 20000), ("email_paid", 25000)], 3 * H, users=45000),
                    {"report": "serious", "serious_categories": ["5"]},
                    reasons_contain=["45,000 users"]))
    out.append(case("multi-service: categories differ, the category's own users count",
                    inc("multi-own", [("mobile_voice", 20000), ("ftth", 25000)], 3 * H, users=45000),
                    {"report": "detailed", "serious_categories": [], "quarterly_clauses": ["telecom"]}))
    out.append(case("incident users given larger than the single service",
                    inc("users-total", [("ftth", 1000)], 2 * H, users=30000),
                    serious(["5"], 2 * H)))
    out.append(case("wholesale receiving operator reports like the provider",
                    inc("ws", [("internet_access", 500000, "degrade")], 2 * H + 59 * M,
                        wholesale_provider="Provider Co."),
                    {"report": "serious", "serious_categories": ["5"]},
                    reasons_contain=["Wholesale", "Provider Co."]))
    out.append(case("minor accident within the user's premises is not reportable",
                    inc("minor", [("ftth", 40000)], 3 * H, within_user_premises=True), NONE,
                    reasons_contain=["minor accident"]))
    return out


def forms():
    out = []
    for eq, rep in [("radio_base_station", "simple"), ("remote_subscriber_unit", "simple"),
                    ("dslam", "simple"), ("subscriber_unit", "detailed"), ("switch", "detailed"),
                    ("subscriber_cable", "detailed"), ("auth_server", "detailed"), ("power", "detailed")]:
        out.append(case(f"form by failed equipment: {eq}",
                        inc(f"form-{eq}", [("mobile_data", 100)], 3 * H, equipment=eq),
                        {"report": rep, "quarterly_clauses": ["telecom"], "due": {"quarterly": "2021-11-30"}}))
    out.append(case("form: unknown equipment is detailed",
                    inc("form-null", [("mobile_data", 100)], 3 * H, equipment=None),
                    {"report": "detailed"}))
    out.append(case("form: a serious accident stays serious whatever the equipment",
                    inc("form-serious", [("mobile_data", 40000)], 3 * H, equipment="radio_base_station"),
                    {"report": "serious", "serious_categories": ["5"]}))
    return out


def deadlines():
    """Deadline dates, each checked by hand against the calendar (weekday, the
    Cabinet Office's holiday list, 29 Dec - 3 Jan) and 行政機関の休日に関する法律
    第2条: a written or quarterly deadline on an administrative holiday moves to
    the next day that is not one; the prompt report never moves."""
    out = []
    def d(name, start, dur, written, moved=None, **kw):
        out.append(case(name, inc(name, [("ftth", 40000)], dur, start=start),
                        {"report": "serious", "due": {"prompt": at(2 * H, start), "written": written}},
                        reasons_contain=moved or [], **kw))
    def q(name, start, quarterly, moved=None):
        out.append(case(name, inc(name, [("ftth", 100)], 3 * H, start=start),
                        {"report": "detailed", "due": {"quarterly": quarterly}},
                        reasons_contain=moved or []))
    d("written: 30 days, first day not counted", "2021-08-03T15:00:00+09:00", 3 * H, "2021-09-02")
    d("written: starting at 00:00:00 JST counts the first day", "2021-08-03T00:00:00+09:00", 3 * H, "2021-09-01")
    d("written: 00:00 JST given in UTC", "2021-08-02T15:00:00Z", 3 * H, "2021-09-01")
    d("written: 00:00:01 JST does not count the first day", "2021-08-03T00:00:01+09:00", 3 * H, "2021-09-02")
    d("written: 23:59 UTC on 2 Aug is 3 Aug in JST", "2021-08-02T23:59:00Z", 3 * H, "2021-09-02")
    d("written: crosses a year end", "2021-12-15T12:00:00+09:00", 3 * H, "2022-01-14")
    d("written: 30 June + 30 days is Friday 30 July", "2021-06-30T23:00:00+09:00", 3 * H, "2021-07-30")
    d("written: 1 July JST (30 June UTC) + 30 = Saturday 31 July: moves past the weekend to 2 August",
      "2021-06-30T15:30:00Z", 3 * H, "2021-08-02",
      ["2021-07-31 (Saturday), 2021-08-01 (Sunday) are each an administrative holiday", "2021-08-02"])
    d("written: the NTT docomo case, 2021-11-13 is a Saturday: due Monday 2021-11-15",
      "2021-10-14T17:37:00+09:00", 2 * H + 20 * M, "2021-11-15",
      ["2021-11-13 (Saturday), 2021-11-14 (Sunday)", "行政機関の休日に関する法律 第2条"])
    d("written: Sunday 30 January 2022 moves to Monday 31 January", "2021-12-31T20:00:00+09:00", 3 * H, "2022-01-31")
    d("written: Golden Week 2021, Saturday 1 May to Wednesday 5 May: due Thursday 6 May",
      "2021-04-01T00:30:00+09:00", 3 * H, "2021-05-06",
      ["2021-05-01 (Saturday), 2021-05-02 (Sunday), 2021-05-03 (Constitution Memorial Day), "
       "2021-05-04 (Greenery Day), 2021-05-05 (Children's Day)"])
    d("written: Golden Week 2022, Saturday 30 April and Sunday 1 May: due Monday 2 May (a working day)",
      "2022-03-31T23:59:59+09:00", 3 * H, "2022-05-02")
    d("written: the year-end closure, 29 December 2021 to 3 January 2022: due 4 January",
      "2021-11-29T10:00:00+09:00", 3 * H, "2022-01-04",
      ["2021-12-29 (year-end closure)", "2022-01-03 (year-end closure)"])
    d("written: a substitute holiday, 9 August 2021 (山の日 振替休日): due 10 August",
      "2021-07-10T10:00:00+09:00", 3 * H, "2021-08-10", ["2021-08-09 (Holiday in lieu)"])
    d("written: the Olympic moves of 2021, 22 July (海の日) and 23 July (スポーツの日) then the weekend: due 26 July",
      "2021-06-22T10:00:00+09:00", 3 * H, "2021-07-26",
      ["2021-07-22 (Marine Day), 2021-07-23 (Health and Sports Day), 2021-07-24 (Saturday)"])
    d("written: 11 October 2021 was a working day (スポーツの日 moved to 23 July): not moved",
      "2021-09-11T13:23:00+09:00", 4 * H, "2021-10-11")
    d("written: the 2019 accession holidays, 30 April to 6 May 2019 (jp-2015): due 7 May",
      "2019-03-31T10:00:00+09:00", 3 * H, "2019-05-07",
      ["2019-04-30 (Holiday), 2019-05-01 (Holiday), 2019-05-02 (Holiday)"])
    d("written: the vernal equinox day, Monday 21 March 2022: due 22 March",
      "2022-02-19T10:00:00+09:00", 3 * H, "2022-03-22", ["2022-03-21 (Vernal Equinox Day)"])
    d("written: Japanese reasons name the days and the law",
      "2021-10-14T17:37:00+09:00", 2 * H + 20 * M, "2021-11-15",
      ["2021-11-13（土曜日）、2021-11-14（日曜日） は行政機関の休日のため、期限は 2021-11-15"],
      lang="ja")
    d("written: leap day + 30 = Saturday 30 March 2024: due Monday 1 April", "2024-02-29T10:00:00+09:00", 3 * H, "2024-04-01")
    d("written: FY2008, jp-2008 moves its deadline too (Saturday 3 May 2008 to Tuesday 7 May)",
      "2008-04-03T10:00:00+09:00", 3 * H, "2008-05-07",
      ["2008-05-03 (Constitution Memorial Day), 2008-05-04 (Greenery Day), 2008-05-05 (Children's Day), 2008-05-06 (Holiday in lieu)"])
    # The prompt report never moves: due the moment it turned serious, a Saturday here.
    out.append(case("prompt: a Saturday does not move the prompt report",
                    inc("prompt-saturday", [("ftth", 40000)], 3 * H, start="2021-11-13T10:00:00+09:00"),
                    {"report": "serious", "due": {"prompt": "2021-11-13T12:00:00+09:00", "written": "2021-12-13"}}))
    q("quarterly: Q1 (April) due 31 August", "2021-04-01T00:30:00+09:00", "2021-08-31")
    q("quarterly: Q1 (30 June) due 31 August", "2021-06-30T23:00:00+09:00", "2021-08-31")
    q("quarterly: Q2 (1 July JST, 30 June UTC) due 30 November", "2021-06-30T15:30:00Z", "2021-11-30")
    q("quarterly: Q3 (December) due end of February", "2021-12-31T20:00:00+09:00", "2022-02-28")
    q("quarterly: Q3 of FY2023 due 29 February 2024", "2023-10-10T10:00:00+09:00", "2024-02-29")
    q("quarterly: Q4 (January) due 31 May", "2022-01-05T10:00:00+09:00", "2022-05-31")
    q("quarterly: Q4 (31 March) due 31 May", "2022-03-31T23:59:59+09:00", "2022-05-31")
    q("quarterly: Q3 of FY2020 ends Sunday 28 February 2021: due Monday 1 March",
      "2020-11-10T10:00:00+09:00", "2021-03-01", ["2021-02-28 (Sunday)", "2021-03-01"])
    q("quarterly: Q1 of FY2019 ends Saturday 31 August 2019: due Monday 2 September",
      "2019-05-10T10:00:00+09:00", "2019-09-02")
    q("quarterly: Q4 of FY2025 ends Sunday 31 May 2026: due Monday 1 June",
      "2026-02-10T10:00:00+09:00", "2026-06-01")
    # 2028 on: the calendar's law-derived years (catalogs/holidays.conf's header)
    q("quarterly: Q3 of FY2027 due Tuesday 29 February 2028 (a law-derived calendar year)",
      "2027-12-10T10:00:00+09:00", "2028-02-29")
    d("written: Monday 18 September 2028 (敬老の日, law-derived): due 19 September",
      "2028-08-19T10:00:00+09:00", 3 * H, "2028-09-19", ["2028-09-18 (Respect for the Aged Day)"])
    d("written: the predicted vernal equinox, Tuesday 20 March 2029: due 21 March",
      "2029-02-18T10:00:00+09:00", 3 * H, "2029-03-21", ["2029-03-20 (Vernal Equinox Day)"])
    # Beyond the calendar: an error, never a guess.
    out.append(case("a written deadline beyond the holiday calendar is an error",
                    inc("beyond", [("ftth", 40000)], 3 * H, start="2051-01-10T10:00:00+09:00"),
                    {}, expect_error="no holiday calendar for 2051"))
    out.append(case("a quarterly deadline beyond the holiday calendar is an error",
                    inc("beyond-q", [("ftth", 100)], 3 * H, start="2050-12-10T10:00:00+09:00"),
                    {}, expect_error="no holiday calendar for 2051: the quarterly-report deadline 2051-02-28"))
    out.append(case("the last covered year still works: Q2 of FY2050 due 30 November 2050",
                    inc("last-year", [("ftth", 100)], 3 * H, start="2050-09-10T10:00:00+09:00"),
                    {"report": "detailed", "due": {"quarterly": "2050-11-30"}}))
    return out


def selection():
    out = []
    def s(name, start, book, svc="ftth", users=40000, dur=3 * H, cats=None, **kw):
        exp = {"rulebook": book}
        if cats is not None:
            exp["serious_categories"] = cats
        out.append(case(name, inc(name, [(svc, users)], dur, start=start), exp, **kw))
    s("FY2019 starts 1 April 00:00 JST", "2019-04-01T00:00:00+09:00", "jp-2019")
    s("31 March 23:59:59 JST is still FY2018", "2019-03-31T23:59:59+09:00", "jp-2015")
    s("31 March 15:00 UTC is 1 April JST", "2019-03-31T15:00:00Z", "jp-2019")
    s("31 March 14:59:59 UTC is 31 March JST", "2019-03-31T14:59:59Z", "jp-2015")
    s("1 April JST given with a negative offset", "2019-03-31T10:00:00-05:00", "jp-2019")
    s("FY2015 starts 1 April 2015 JST", "2015-03-31T15:00:00Z", "jp-2015")
    s("FY2014 ends 31 March 2015 JST", "2015-03-31T14:59:59Z", "jp-2008",
      reasons_contain=["平成25年度"])
    out.append(case("FY2010: the non-telecom quarterly clause has no source for jp-2008 and says so",
                    inc("nt-2010", [("ftth", 40000)], 60, start="2010-06-01T10:00:00+09:00",
                        facility="non_telecom"),
                    {"rulebook": "jp-2008", "report": "detailed", "quarterly_clauses": ["non_telecom"]},
                    reasons_contain=["not confirmed"]))
    s("FY2008 starts 1 April 2008 JST", "2008-04-01T00:00:00+09:00", "jp-2008", cats=["all"])
    s("FY2008: a voice outage uses the single pre-2015 line", "2010-06-01T10:00:00+09:00", "jp-2008",
      svc="mobile_voice", users=30000, dur=2 * H - 1, cats=[])
    s("FY2008: 2h and 30000 users on any service", "2010-06-01T10:00:00+09:00", "jp-2008",
      svc="email_free", users=30000, dur=2 * H, cats=["all"])
    out.append(case("before FY2008 no rulebook is in force",
                    inc("pre-2008", [("ftth", 40000)], 3 * H, start="2008-03-31T23:59:59+09:00"),
                    {}, expect_no_rulebook=True))
    # jp-2015's own numbering (FY2015-FY2018): 三 = free internet services,
    # 四 = every other service; LPWA (no category of its own yet) is in 四.
    s("LPWA in FY2018 is category 4 (jp-2015's 'every other service')", "2018-06-01T10:00:00+09:00", "jp-2015",
      svc="lpwa_cellular", users=30000, dur=2 * H, cats=["4"])
    s("FY2017 free mail outage 24h, 100,000 users: jp-2015 category 3", "2017-06-01T10:00:00+09:00", "jp-2015",
      svc="email_free", users=100000, dur=24 * H, cats=["3"],
      reasons_contain=["category 3 — free (unpaid) internet-related services"])
    s("FY2017 free mail outage 24h minus 1s: not serious", "2017-06-01T10:00:00+09:00", "jp-2015",
      svc="email_free", users=100000, dur=24 * H - 1, cats=[])
    s("FY2017 free hosting 12h, 1,000,000 users: category 3", "2017-06-01T10:00:00+09:00", "jp-2015",
      svc="hosting_free", users=1000000, dur=12 * H, cats=["3"])
    s("FY2016 paid mail 2h, 30,000 users: category 4; no quarterly report, unconfirmed for the period",
      "2016-06-01T10:00:00+09:00", "jp-2015", svc="email_paid", users=30000, dur=2 * H, cats=["4"],
      reasons_contain=["No quarterly report: serious accidents are excluded",
                       "no source states the quarterly duty of serious accidents for this period"])
    s("FY2016 FTTH 1h, 1,000,000 users: category 4", "2016-06-01T10:00:00+09:00", "jp-2015",
      svc="ftth", users=1000000, dur=H, cats=["4"])
    s("FY2016 emergency voice 1h, 30,000 users: category 1", "2016-06-01T10:00:00+09:00", "jp-2015",
      svc="mobile_voice", users=30000, dur=H, cats=["1"])
    s("FY2016 050 IP phone 1h, 100,000 users: category 2", "2016-06-01T10:00:00+09:00", "jp-2015",
      svc="ip_phone_050", users=100000, dur=H, cats=["2"])
    out.append(case("jp-2015 category 3's name in Japanese, as the ordinance worded it",
                    inc("jp2015-ja", [("email_free", 100000)], 24 * H, start="2017-06-01T10:00:00+09:00"),
                    {"rulebook": "jp-2015", "serious_categories": ["3"]}, lang="ja",
                    reasons_contain=["区分3（利用者から電気通信役務の提供の対価としての料金の支払を受けないインターネット関連サービス（音声伝送役務を除く。））"]))
    s("LPWA in FY2019 is category 3 (not serious at 2h)", "2019-06-01T10:00:00+09:00", "jp-2019",
      svc="lpwa_unlicensed", users=30000, dur=2 * H, cats=[])
    out.append(case("--rulebook forces jp-2015 on a FY2021 LPWA outage",
                    inc("forced", [("lpwa_cellular", 30000)], 2 * H),
                    {"rulebook": "jp-2015", "report": "serious", "serious_categories": ["4"]},
                    rulebook="jp-2015", reasons_contain=["chosen explicitly, not by date"]))
    return out


# becomes_serious_clause (optional output, docs/incident-format.md): the
# clause behind becomes_serious_at, as jp-2019 words and cites it
EMERGENCY_VOICE = {"id": "1", "name": "voice transmission that handles emergency calls",
                   "threshold": "duration >= 1h and users >= 30000",
                   "source": "電気通信事業法施行規則 第58条; 令和3年度事故発生状況 注1①一"}


def ongoing():
    out = []
    def o(name, svcs, now_after, exp, **kw):
        out.append(case(name, inc(name, svcs, None), exp, now=at(now_after), **kw))
    o("ongoing 50,000 users after 1h: detailed now, serious at 2h",
      [("ftth", 50000)], H,
      {"report": "detailed", "becomes_serious_at": at(2 * H), "due": {"quarterly": "2021-11-30"}},
      reasons_contain=["Turns serious at " + at(2 * H)])
    o("ongoing 2,000,000 users after 30m: serious at 1h",
      [("ftth", 2000000)], 30 * M, {"report": "detailed", "becomes_serious_at": at(H)})
    o("ongoing 2,000,000 users exactly at 1h: serious now",
      [("ftth", 2000000)], H, {"report": "serious", "becomes_serious_at": at(H),
                               "due": {"prompt": at(H), **SERIOUS_Q2}})
    o("ongoing 29,999 users: cannot turn serious",
      [("ftth", 29999)], 10 * M, {"report": "none", "becomes_serious_at": None},
      reasons_contain=["Cannot turn serious"])
    o("ongoing 29,999 users after 2h: quarterly, still cannot turn serious",
      [("ftth", 29999)], 2 * H, {"report": "detailed", "becomes_serious_at": None})
    o("ongoing emergency voice 30,000 users: serious at 1h",
      [("mobile_voice", 30000)], 5 * M, {"report": "detailed", "becomes_serious_at": at(H),
                                         "becomes_serious_clause": EMERGENCY_VOICE})
    o("ongoing voice without emergency calls 100,000: 1h line first",
      [("ip_phone_050", 100000)], 5 * M, {"becomes_serious_at": at(H)})
    o("ongoing free mail 1,000,000: 12h line first",
      [("email_free", 1000000)], 5 * M, {"becomes_serious_at": at(12 * H)})
    o("ongoing LPWA 30,000: 12h",
      [("lpwa_cellular", 30000)], 5 * M, {"becomes_serious_at": at(12 * H)})
    o("ongoing multi-service: the earliest category wins",
      [("email_free", 200000), ("mobile_voice", 30000)], 5 * M,
      {"becomes_serious_at": at(H), "becomes_serious_clause": EMERGENCY_VOICE})
    o("ongoing satellite with all traffic stopped: serious at 2h",
      [("leased_line", 3)], 5 * M, {"becomes_serious_at": at(2 * H), "becomes_serious_clause": {
          "id": "critical", "name": "failure of a satellite, submarine cable or comparable critical facility",
          "threshold": "duration >= 2h", "source": "電気通信事業法施行規則 第58条; 令和3年度事故発生状況 注1②"}},
      )
    out[-1]["incident"].update(critical_facility="satellite", all_traffic_stopped=True)
    o("ongoing: --now before the start counts as zero duration",
      [("ftth", 40000)], -3600, {"report": "detailed", "becomes_serious_at": at(2 * H)})
    o("ongoing, already serious for hours: becomes_serious_at is when it turned",
      [("ftth", 40000)], 10 * H, {"report": "serious", "becomes_serious_at": at(2 * H)})
    o("ongoing, Japanese reasons",
      [("ftth", 50000)], H, {"becomes_serious_at": at(2 * H)}, lang="ja",
      reasons_contain=["このまま継続すると", "四半期報告"])
    out.append(case("ended incident: becomes_serious_at is null",
                    inc("ended", [("ftth", 50000)], H), {"becomes_serious_at": None}))
    return out


def osore():
    """重大な事故が生ずるおそれがあると認められる事態 (jp-2023, from 2023-06-16)
    at each boundary of MIC's conditions, and the secrecy-leak report."""
    out = []
    base = dict(osore_event="could_not_stop", noticed_at="2024-08-05T12:00:00+09:00",
                operator_users_prev_fy=30000, prefectures=2, core_function="switching")
    start = "2024-08-05T10:00:00+09:00"
    def o(name, exp, start=start, svcs=(), dur=H, reasons=None, lang=None, **kw):
        fields = {**base, **kw}
        fields = {k: v for k, v in fields.items() if v is not ...}
        c = case(name, inc(name, list(svcs), dur, start=start, **fields), exp,
                 reasons_contain=reasons or [])
        if lang:
            c["lang"] = lang
        out.append(c)
    owed = {"rulebook": "jp-2023", "report": "none", "due": {"osore": "2024-09-04"}}
    o("osore: every condition met, due 30 days after the day it was noticed", owed,
      reasons=["report due by 2024-09-04, within 30 days of the day it was noticed"])
    o("osore: 30,000 users at the end of the previous fiscal year is enough (inclusive)", owed)
    o("osore: 29,999 users is not", {"report": "none", "due": {}}, operator_users_prev_fy=29999,
      reasons=["'operator_users_prev_fy' does not meet the conditions"])
    o("osore: the operator's users not given: not owed, and says why", {"due": {}},
      operator_users_prev_fy=None, reasons=["'operator_users_prev_fy'"])
    o("osore: a service in one prefecture is not", {"due": {}}, prefectures=1,
      reasons=["'prefectures' does not meet"])
    o("osore: terminal equipment or access lines (no core function) is not", {"due": {}},
      core_function=None, reasons=["'core_function' does not meet"])
    for fn in ["transmission", "control", "operation", "subscriber_auth"]:
        o(f"osore: core function {fn}", owed, core_function=fn)
    o("osore: failover not made in time", owed, osore_event="failover_failed")
    o("osore: noticed two days later counts from that day", {"due": {"osore": "2024-09-06"}},
      noticed_at="2024-08-07T09:00:00+09:00")
    o("osore: 30 days end on 敬老の日 2024-09-16: due 2024-09-17", {"due": {"osore": "2024-09-17"}},
      start="2024-08-17T10:00:00+09:00", noticed_at="2024-08-17T10:00:00+09:00",
      reasons=["2024-09-16 (Respect for the Aged Day)", "2024-09-17"])
    o("osore: on 2023-06-16 (jp-2023) the report exists", {"rulebook": "jp-2023", "due": {"osore": "2023-07-18"}},
      start="2023-06-16T00:00:00+09:00", noticed_at="2023-06-16T00:00:00+09:00")
    o("osore: the day before (jp-2019) it does not, and the reasons say so",
      {"rulebook": "jp-2019", "due": {}}, start="2023-06-15T23:59:59+09:00",
      noticed_at="2023-06-16T08:00:00+09:00", reasons=["has no such report"])
    o("osore together with a serious accident: both reports",
      {"report": "serious", "serious_categories": ["1"],
       "due": {"prompt": "2024-08-05T11:00:00+09:00", "written": "2024-09-04", "osore": "2024-09-04"}},
      svcs=[("mobile_voice", 40000)], dur=2 * H)
    o("osore: Japanese reasons", {"due": {"osore": "2024-09-04"}}, lang="ja",
      reasons=["重大な事故が生ずるおそれがあると認められる事態: 報告書は 2024-09-04 まで（覚知した日から30日以内"])
    out.append(case("osore: a deadline beyond the holiday calendar is an error",
                    inc("osore-beyond", [], H, start="2050-12-20T10:00:00+09:00", **{**base,
                        "noticed_at": "2050-12-20T10:00:00+09:00"}),
                    {}, expect_error="no holiday calendar for 2051: the osore-report deadline 2051-01-19"))
    # 通信の秘密の漏えい: a report of its own, 30 days from the day it became known
    out.append(case("secrecy leak: due 30 days after the operator learnt of it",
                    inc("secrecy", [], 0, start="2024-08-05T10:00:00+09:00",
                        secrecy_leak_known_at="2024-08-20T09:00:00+09:00"),
                    {"report": "none", "due": {"secrecy_leak": "2024-09-19"}},
                    reasons_contain=["Secrecy-of-communications leak report: due by 2024-09-19"]))
    out.append(case("secrecy leak: known on 2021-10-14, 30 days end on Saturday: due Monday 2021-11-15",
                    inc("secrecy-sat", [], 0, start="2021-10-14T10:00:00+09:00",
                        secrecy_leak_known_at="2021-10-14T12:00:00+09:00"),
                    {"rulebook": "jp-2019", "due": {"secrecy_leak": "2021-11-15"}}))
    out.append(case("secrecy leak known at 00:00 JST: the first day counts (Civil Code Art. 140)",
                    inc("secrecy-midnight", [], 0, start="2024-08-19T10:00:00+09:00",
                        secrecy_leak_known_at="2024-08-20T00:00:00+09:00"),
                    {"due": {"secrecy_leak": "2024-09-18"}}))
    out.append(case("secrecy leak under jp-2015: not modelled for that period",
                    inc("secrecy-2017", [], 0, start="2017-08-05T10:00:00+09:00",
                        secrecy_leak_known_at="2017-08-20T09:00:00+09:00"),
                    {"rulebook": "jp-2015", "due": {}}))
    return out


def mau():
    """A category judged by monthly active users (月間アクティブ利用者数), on the
    example proposal tests/cases/jp-2025-proposal.rules (forced: it is never
    chosen by date).  Its [serious 4] (free internet services) has, beside
    '24h and 100,000' and '12h and 1,000,000', the ILLUSTRATIVE lines
    'mau >= 10,000,000 and duration >= 4h and users >= 100,000' and
    'mau >= 10,000,000 and duration >= 2h and users >= 1,000,000' (figures
    from a news report of a 2025 draft, not an ordinance).  A service whose
    figure is not given is presumed to reach it, and the reasons say so."""
    out = []
    P = "jp-2025-proposal"
    start = "2025-08-04T10:00:00+09:00"   # a Monday, FY2025 Q2
    L4 = "mau >= 10,000,000 and duration >= 4h and users >= 100,000"

    def serious_at(prompt):
        return {"rulebook": P, "report": "serious", "serious_categories": ["4"],
                "due": {"prompt": prompt, "written": "2025-09-03"}}
    serious = serious_at("2025-08-04T14:00:00+09:00")
    detailed = {"rulebook": P, "report": "detailed", "serious_categories": [],
                "quarterly_clauses": ["telecom"], "due": {"quarterly": "2026-06-30"}}
    not_serious = {"rulebook": P, "report": "detailed", "serious_categories": []}

    def svc(code, users, mau=..., effect="stop"):
        d = {"service": code, "effect": effect, "users": users}
        if mau is not ...:
            d["monthly_active_users"] = mau
        return d

    def m(name, services, dur, exp, reasons=(), lang=None, forced=True, now=None):
        rec = {"id": name, "operator": "Test Operator", "started_at": start,
               "ended_at": at(dur, start) if dur is not None else None, "services": services}
        c = case(name, rec, exp, reasons_contain=list(reasons))
        if forced:
            c["rulebook"] = P
        if lang:
            c["lang"] = lang
        if now:
            c["now"] = now
        out.append(c)

    m("mau: 10,000,000 monthly active users (inclusive) make 4 h and 100,000 users serious",
      [svc("email_free", 100000, 10000000)], 4 * H, serious,
      ["Monthly active users (月間アクティブ利用者数): free e-mail service has 10,000,000, "
       "meeting 'mau >= 10,000,000' of the line '" + L4 + "'",
       "chosen explicitly, not by date"])
    m("mau: 9,999,999 do not", [svc("email_free", 100000, 9999999)], 4 * H, detailed)
    m("mau: 0 is a figure, not a missing one", [svc("email_free", 100000, 0)], 4 * H, detailed)
    m("mau: not given: presumed to reach the figure, and the reasons say so",
      [svc("email_free", 100000)], 4 * H, serious,
      ["Presumed, not established: free e-mail service gives no monthly active users "
       "(services[].monthly_active_users), which the line '" + L4 + "' needs",
       "With fewer than 10,000,000 monthly active users the line does not apply"])
    m("mau: null is the same as not given", [svc("email_free", 100000, None)], 4 * H, serious,
      ["Presumed, not established"])
    m("mau: 3h59m is not enough for 100,000 users, with any monthly active users",
      [svc("email_free", 100000, 50000000)], 4 * H - M, not_serious)
    m("mau: 99,999 users are not enough at 4 h", [svc("email_free", 99999, 50000000)], 4 * H,
      not_serious)
    m("mau: 1,000,000 users make 2 h serious (the second line), due from 2 h",
      [svc("email_free", 1000000, 10000000)], 2 * H, serious_at("2025-08-04T12:00:00+09:00"),
      ["meeting 'mau >= 10,000,000 and duration >= 2h and users >= 1,000,000'"])
    m("mau: 999,999 users at 2 h are not", [svc("email_free", 999999, 10000000)], 2 * H,
      not_serious)
    m("mau: the category's other lines need no figure (24 h, 100,000 users)",
      [svc("email_free", 100000, 5)], 24 * H, serious_at("2025-08-05T10:00:00+09:00"))
    m("mau: a service known to qualify settles the line; no presumption",
      [svc("email_free", 100000, 20000000), svc("hosting_free", 150000)], 4 * H, serious,
      ["free e-mail service has 20,000,000"])
    m("mau: a service without the figure makes up the users: presumed",
      [svc("email_free", 50000, 20000000), svc("hosting_free", 120000)], 4 * H, serious,
      ["Presumed, not established: free web hosting and other internet-related services gives "
       "no monthly active users"])
    m("mau: a service known to fall short does not count, even beside one without the figure",
      [svc("email_free", 200000, 1), svc("hosting_free", 50000)], 4 * H, not_serious)
    m("mau: the line is for its category only (a paid service's figure does not count)",
      [svc("email_paid", 10000, 50000000), svc("email_free", 100000, 1)], 4 * H, not_serious)
    m("mau: Japanese reasons", [svc("email_free", 100000)], 4 * H, serious,
      ["推定（未確定）: 電子メール（無料） の月間アクティブ利用者数（services[].monthly_active_users）の記載がないため",
       "10,000,000 人未満であればこの基準は該当しない"], lang="ja")
    m("mau: Japanese reasons with the figure", [svc("email_free", 100000, 12000000)], 4 * H, serious,
      ["月間アクティブ利用者数: 電子メール（無料） は 12,000,000 人で、月間アクティブ利用者数 10,000,000 人以上とする基準「" + L4 + "」を満たす"],
      lang="ja")
    m("mau: ongoing, turns serious at 4 h on the presumption, and says so",
      [svc("email_free", 100000)], None,
      {"rulebook": P, "report": "detailed", "becomes_serious_at": "2025-08-04T14:00:00+09:00"},
      ["Turns serious at 2025-08-04T14:00:00+09:00", "Presumed, not established"],
      now="2025-08-04T11:00:00+09:00")
    m("mau: ongoing with a figure below the line: serious only at 24 h",
      [svc("email_free", 100000, 1)], None,
      {"rulebook": P, "report": "detailed", "becomes_serious_at": "2025-08-05T10:00:00+09:00"},
      now="2025-08-04T11:00:00+09:00")
    m("mau: ongoing with 30,000 users: cannot turn serious, whatever the figure",
      [svc("email_free", 30000)], None, {"rulebook": P, "becomes_serious_at": None},
      ["Cannot turn serious with the current user counts"], now="2025-08-04T11:00:00+09:00")
    m("mau: the proposal is never chosen by date: jp-2023 applies and the field changes nothing",
      [svc("email_free", 100000, 50000000)], 4 * H,
      {"rulebook": "jp-2023", "report": "detailed", "serious_categories": [],
       "quarterly_clauses": ["telecom"], "due": {"quarterly": "2025-12-01"}},
      ["in force on the start date 2025-08-04"], forced=False)
    return out


def write(name, cases):
    with open(os.path.join(HERE, name), "w", encoding="utf-8") as f:
        f.write("# generated by gen.py — edit gen.py, not this file\n")
        for c in cases:
            f.write(json.dumps(c, ensure_ascii=False) + "\n")


write("boundaries.jsonl", boundaries())
write("multi.jsonl", multi())
write("forms.jsonl", forms())
write("deadlines.jsonl", deadlines())
write("selection.jsonl", selection())
write("ongoing.jsonl", ongoing())
write("osore.jsonl", osore())
write("mau.jsonl", mau())
