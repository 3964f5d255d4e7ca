#!/usr/bin/env python3
"""Compare `jiko report --format csv --table ID` output with MIC's published
FY figures (../shared/data/fyYYYY/*.csv), cell by cell.

Usage: compare_published.py PUBLISHED_DIR REPORT_DIR
REPORT_DIR holds ID.csv files written by jiko.  Every non-empty published cell
must equal jiko's cell in the same row (matched by the key columns) and column;
'na' must be 'na'.  Published blanks are figures the source does not give and
are not compared.  headline.csv is compared with jiko's headline table (figure,
value, prev).  Prints one line per mismatch and the count of cells compared.
"""
import csv, os, sys

KEYS = {"overview": ["report_type"], "matrix": ["duration"], "headline": ["figure"],
        "services": ["group", "subgroup"], "causes": ["cause"], "equipment": ["group", "subgroup"]}

def rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        lines = [l for l in f if not l.startswith("#")]
    return list(csv.DictReader(lines))

def main():
    pub_dir, rep_dir = sys.argv[1], sys.argv[2]
    compared = bad = 0
    for name in sorted(os.listdir(pub_dir)):
        if not name.endswith(".csv"):
            continue
        table = name[:-4]
        keys = KEYS[table]
        mine = {tuple(r[k] for k in keys): r for r in rows(os.path.join(rep_dir, name))}
        for p in rows(os.path.join(pub_dir, name)):
            key = tuple(p[k] for k in keys)
            m = mine.get(key)
            if m is None:
                print(f"{table}: row {key} missing from jiko's report"); bad += 1; continue
            for col, want in p.items():
                if col in keys or want is None or want == "":
                    continue
                compared += 1
                got = m.get(col)
                if got != want:
                    print(f"{table}: row {key} column {col}: published {want}, jiko {got}"); bad += 1
    print(f"compared {compared} published cells, {bad} differ")
    return 1 if bad or not compared else 0

sys.exit(main())
