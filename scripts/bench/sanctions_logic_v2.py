#!/usr/bin/env python3
"""Score Trilat's labelled pairs with OpenSanctions' logic-v2 matcher (nomenklatura), side by side.

Usage:
  target/release/examples/eval --set crates/trilat-sanctions/data/eval_set.csv \
      --hand crates/trilat-sanctions/data/eval_families.csv --list-pairs --pairs-out /tmp/pairs.csv $F
  .venv/bin/python scripts/bench/sanctions_logic_v2.py /tmp/pairs.csv [THRESHOLD]

Prints precision / recall / F1 of logic-v2 (at its threshold, default 0.7) and of Trilat (the
`score` column at 0.80) on the same pairs, side by side: overall, per group (`set` the families
set, `hand_` the hand-written families, `list_` the list pairs) and per family (the `family`
column, or `category` in older files), and the scores of the issue's named examples.
Setup: python3 -m venv .venv && .venv/bin/pip install nomenklatura==4.17.4 (PyICU needs libicu-dev)
"""
import csv
import sys
from collections import defaultdict

from followthemoney import model
from nomenklatura.matching import get_algorithm

try:
    from nomenklatura.matching.types import ScoringConfig

    CONFIG = ScoringConfig.defaults()
except Exception:  # older / newer nomenklatura
    CONFIG = None

ALGO = get_algorithm("logic-v2")
SCHEMA = {"person": "Person", "organization": "Organization", "vessel": "Vessel", "aircraft": "Airplane"}


def entity(eid, name, schema):
    proxy = model.make_entity(SCHEMA.get(schema, "LegalEntity"))
    proxy.id = eid
    proxy.add("name", name)
    return proxy


_COUNTER = [0]


def score(name1, name2, schema="person"):
    # Fresh ids per pair: nomenklatura caches per-entity analysis by id.
    _COUNTER[0] += 1
    n = _COUNTER[0]
    a, b = entity(f"q{n}", name1, schema), entity(f"r{n}", name2, schema)
    res = ALGO.compare(a, b, CONFIG) if CONFIG is not None else ALGO.compare(a, b)
    return float(res.score if hasattr(res, "score") else res["score"])


def metrics(rows):
    tp = sum(1 for l, p in rows if l and p)
    fp = sum(1 for l, p in rows if not l and p)
    fn = sum(1 for l, p in rows if l and not p)
    tn = sum(1 for l, p in rows if not l and not p)
    precision = tp / max(tp + fp, 1)
    recall = tp / max(tp + fn, 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return tp, fp, fn, tn, precision, recall, f1


def prf(rows):
    tp, fp, fn, tn, p, r, f1 = metrics(rows)
    return f"P {p:.3f} R {r:.3f} F1 {f1:.3f} ({tp:>4} {fp:>4} {fn:>4} {tn:>4})"


def group(family):
    for prefix in ("hand_", "list_"):
        if family.startswith(prefix):
            return prefix[:-1]
    return "set"


def main():
    path = sys.argv[1]
    threshold = float(sys.argv[2]) if len(sys.argv) > 2 else 0.7
    ours, theirs = [], []
    by_family = defaultdict(lambda: ([], []))
    by_group = defaultdict(lambda: ([], []))
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            label = row["label"] == "true"
            family = row.get("family") or row.get("category") or ""
            s = score(row["name1"], row["name2"], row["schema"])
            t = float(row["score"]) >= 0.80
            ours.append((label, t))
            theirs.append((label, s >= threshold))
            for table in (by_family[family], by_group[group(family)]):
                table[0].append((label, t))
                table[1].append((label, s >= threshold))
    print(f"{len(ours)} pairs; trilat at 0.80, logic-v2 at {threshold}; counts are (tp fp fn tn)")
    print(f"{'':<32} {'trilat':<38} logic-v2")
    print(f"{'overall':<32} {prf(ours):<38} {prf(theirs)}")
    for name, (o, t) in sorted(by_group.items()):
        print(f"{'group ' + name:<32} {prf(o):<38} {prf(t)}")
    for name, (o, t) in sorted(by_family.items()):
        print(f"{name:<32} {prf(o):<38} {prf(t)}")
    for a, b in [("김정은", "Kim Jong Un"), ("金正恩", "Kim Jong Un"), ("Ri Chol Ho", "Lee Cheol-ho"),
                 ("Kim Jong Un", "Kim Jong Man"), ("Ryu Jin", "Yu Jin")]:
        print(f"logic-v2 {a} ↔ {b}: {score(a, b):.3f}")


if __name__ == "__main__":
    main()
