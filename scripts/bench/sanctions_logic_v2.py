#!/usr/bin/env python3
"""Score Trilat's labelled pairs with OpenSanctions' logic-v2 matcher (nomenklatura), side by side.

Usage:
  trilat sanctions eval --lists … --pairs-out /tmp/pairs.csv     # writes name1,name2,schema,label,category,score
  /work/venv-sanctions/bin/python scripts/bench/sanctions_logic_v2.py /tmp/pairs.csv [THRESHOLD]

Prints precision / recall / F1 of logic-v2 (at its threshold, default 0.7) and of Trilat (the
`score` column at 0.80) on the same pairs, overall and per category, and the scores of the
issue's named examples.
Setup: python3 -m venv /work/venv-sanctions && /work/venv-sanctions/bin/pip install nomenklatura
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


def main():
    path = sys.argv[1]
    threshold = float(sys.argv[2]) if len(sys.argv) > 2 else 0.7
    ours, theirs = [], []
    by_cat = defaultdict(lambda: ([], []))
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            label = row["label"] == "true"
            s = score(row["name1"], row["name2"], row["schema"])
            t = float(row["score"]) >= 0.80
            ours.append((label, t))
            theirs.append((label, s >= threshold))
            by_cat[row["category"]][0].append((label, t))
            by_cat[row["category"]][1].append((label, s >= threshold))
    fmt = "{:<12} tp {:>5} fp {:>5} fn {:>5} tn {:>5}  P {:.3} R {:.3} F1 {:.3}"
    print(fmt.format("trilat", *metrics(ours)))
    print(fmt.format("logic-v2", *metrics(theirs)))
    for cat, (o, t) in sorted(by_cat.items()):
        print(f"{cat:<36} trilat F1/acc {metrics(o)[6]:.3f}/{sum(l == p for l, p in o) / len(o):.3f}   "
              f"logic-v2 F1/acc {metrics(t)[6]:.3f}/{sum(l == p for l, p in t) / len(t):.3f}")
    for a, b in [("김정은", "Kim Jong Un"), ("金正恩", "Kim Jong Un"), ("Ri Chol Ho", "Lee Cheol-ho"),
                 ("Kim Jong Un", "Kim Jong Man"), ("Ryu Jin", "Yu Jin")]:
        print(f"logic-v2 {a} ↔ {b}: {score(a, b):.3f}")


if __name__ == "__main__":
    main()
