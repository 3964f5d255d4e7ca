#!/usr/bin/env python3
"""Leave-one-category-out NAB scoring (the selection protocol of docs/design-detect.md).

Folds: artificial (artificialNoAnomaly + artificialWithAnomaly),
realAWSCloudwatch, realAdExchange, realTweets.  For each held-out category,
the threshold of each NAB profile -- and, when several variants are given,
the variant too -- is chosen on the pooled three other categories (best
score of that profile there), then applied unchanged to the held-out one.

usage:
  nab_loco.py --data NAB --scorer nab_score.py NAME=RESULTS [NAME=RESULTS ...]
  nab_loco.py --data NAB --scorer nab_score.py --jiko build/jiko --detector light --detector full

RESULTS is a directory written by `jiko detect --nab NAB --out RESULTS`;
with --jiko the script writes them itself (one per --detector) in a
temporary directory.  Prints a table per variant (held-out score per fold
and profile, worst, mean, and the all-files in-sample figure) and, with
more than one variant, the nested selection (variant chosen on the three
training categories).  --json prints the same as JSON.
"""
import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile

FOLDS = {
    "artificial": ("artificialNoAnomaly", "artificialWithAnomaly"),
    "realAWSCloudwatch": ("realAWSCloudwatch",),
    "realAdExchange": ("realAdExchange",),
    "realTweets": ("realTweets",),
}
PROFILE_NAMES = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")


def load_scorer(path):
    spec = importlib.util.spec_from_file_location("nab_score", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def fold_of(name):
    top = name.split("/")[0]
    for fold, dirs in FOLDS.items():
        if top in dirs:
            return fold
    raise SystemExit(f"nab_loco: {name}: not in any fold")


def subset_score(ns, rows, n_windows, weights, fixed=None):
    """NAB-normalised score of rows (and the threshold used or found)."""
    (raw, thr, _, _), null = ns.best_threshold(rows, weights, fixed)
    perfect = weights["tp"] * n_windows
    return 100.0 * (raw - null) / (perfect - null), thr


def variant_tables(ns, data, labels_path, results):
    """Per fold: its rows and window count, from one result directory."""
    labels = ns.load_labels(labels_path)
    _, per_file = ns.score(data, results, labels_path)
    folds = {f: {"rows": [], "windows": 0} for f in FOLDS}
    for name, rows in per_file.items():
        f = folds[fold_of(name)]
        f["rows"].extend(rows)
        f["windows"] += len(labels[name])
    return folds


def evaluate(ns, folds):
    """Held-out score per fold and profile, threshold chosen on the others,
    plus the training score (for nested selection) and the all-files one."""
    out = {"folds": {}, "all": {}}
    for prof in PROFILE_NAMES:
        w = ns.PROFILES[prof]
        rows = [r for f in folds.values() for r in f["rows"]]
        nw = sum(f["windows"] for f in folds.values())
        out["all"][prof] = subset_score(ns, rows, nw, w)
    for held in FOLDS:
        fo = {}
        for prof in PROFILE_NAMES:
            w = ns.PROFILES[prof]
            train = [r for k, f in folds.items() if k != held for r in f["rows"]]
            tw = sum(f["windows"] for k, f in folds.items() if k != held)
            tscore, thr = subset_score(ns, train, tw, w)
            h = folds[held]
            hscore, _ = subset_score(ns, h["rows"], h["windows"], w, fixed=thr)
            fo[prof] = {"train": tscore, "threshold": thr, "held_out": hscore}
        out["folds"][held] = fo
    return out


def summary(ev):
    s = {}
    for prof in PROFILE_NAMES:
        vals = [ev["folds"][f][prof]["held_out"] for f in FOLDS]
        s[prof] = {"worst": min(vals), "mean": sum(vals) / len(vals)}
    return s


def print_variant(name, ev):
    print(f"== {name}: held-out score (threshold chosen on the other three) "
          "standard / low FP / low FN")
    for f in FOLDS:
        r = ev["folds"][f]
        print(f"  {f:<20} " + " / ".join(f"{r[p]['held_out']:6.2f}" for p in PROFILE_NAMES)
              + f"   (thr {r['standard']['threshold']:.4f}, train {r['standard']['train']:.2f})")
    s = summary(ev)
    print(f"  {'worst fold':<20} " + " / ".join(f"{s[p]['worst']:6.2f}" for p in PROFILE_NAMES))
    print(f"  {'mean over folds':<20} " + " / ".join(f"{s[p]['mean']:6.2f}" for p in PROFILE_NAMES))
    print(f"  {'all 44 (in-sample)':<20} "
          + " / ".join(f"{ev['all'][p][0]:6.2f}" for p in PROFILE_NAMES)
          + f"   (thr {ev['all']['standard'][1]:.4f})")


def nested(evs):
    """Variant and threshold both chosen on the three training categories."""
    out = {}
    for f in FOLDS:
        out[f] = {}
        for p in PROFILE_NAMES:
            best = max(evs, key=lambda n: evs[n]["folds"][f][p]["train"])
            out[f][p] = {"variant": best, "held_out": evs[best]["folds"][f][p]["held_out"]}
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True, help="NAB directory (CATEGORY/NAME.csv, labels/)")
    ap.add_argument("--scorer", required=True, help="path of nab_score.py")
    ap.add_argument("--jiko", help="jiko binary: run `jiko detect --nab` for each --detector")
    ap.add_argument("--detector", action="append", default=[], help="detector to run with --jiko")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("variants", nargs="*", help="NAME=RESULTS directories")
    a = ap.parse_args()
    ns = load_scorer(a.scorer)
    labels = os.path.join(a.data, "labels", "windows.json")
    variants = []
    for v in a.variants:
        name, _, d = v.partition("=")
        variants.append((name, d or name))
    tmp = None
    if a.jiko:
        tmp = tempfile.TemporaryDirectory(prefix="nab_loco.")
        for det in a.detector or ["full"]:
            d = os.path.join(tmp.name, det)
            subprocess.run([a.jiko, "detect", "--detector", det, "--nab", a.data, "--out", d],
                           check=True)
            variants.append((det, d))
    if not variants:
        ap.error("no variant: give NAME=RESULTS or --jiko with --detector")
    evs = {name: evaluate(ns, variant_tables(ns, a.data, labels, d)) for name, d in variants}
    if a.json:
        doc = {n: dict(ev, summary=summary(ev)) for n, ev in evs.items()}
        if len(evs) > 1:
            doc["nested"] = nested(evs)
        print(json.dumps(doc, indent=2))
        return 0
    for name, ev in evs.items():
        print_variant(name, ev)
    if len(evs) > 1:
        print("== nested: variant and threshold chosen on the three training categories")
        ne = nested(evs)
        for f in FOLDS:
            print(f"  {f:<20} " + " / ".join(
                f"{ne[f][p]['held_out']:6.2f} ({ne[f][p]['variant']})" for p in PROFILE_NAMES))
        for p in PROFILE_NAMES:
            vals = [ne[f][p]["held_out"] for f in FOLDS]
            print(f"  {p}: worst {min(vals):.2f}, mean {sum(vals) / len(vals):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
