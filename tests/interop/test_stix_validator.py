"""STIX interoperability: every bundle `trilat cyber export` writes is accepted
by the OASIS stix2-validator (PyPI `stix2-validator`).

Covers the whole MITRE ATT&CK DPRK subset round-tripped through
`trilat cyber import` and `export` (bare and marked), each OASIS example
bundle, and a bundle of our own with every TLP and releasability marking,
exported for each partner. Real data comes from ../shared/data (or
TRILAT_SHARED_DATA); tests skip, saying so, when it is absent.

Run: TRILAT_BIN=target/debug/trilat pytest tests/interop/test_stix_validator.py
"""
import json
import os
import pathlib
import subprocess
import uuid

import pytest
from stix2validator import ValidationOptions, validate_string

ROOT = pathlib.Path(__file__).resolve().parents[2]
TRILAT_BIN = os.environ.get("TRILAT_BIN", str(ROOT / "target" / "debug" / "trilat"))
SHARED = pathlib.Path(os.environ.get("TRILAT_SHARED_DATA", ROOT.parent / "shared" / "data"))
CYBER = SHARED / "cyber"
MITRE_DPRK = CYBER / "mitre_attack" / "enterprise-attack-v18_dprk-groups_subset.stix21.json"
OASIS_EXAMPLES = sorted((CYBER / "oasis_stix21_examples").glob("*.json"))

TLP2 = {
    "CLEAR": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "GREEN": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "AMBER": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "AMBER+STRICT": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "RED": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
RELEASABILITY_EXTENSION = "extension-definition--d237112c-5e22-4dc5-aaeb-8fc788cd5520"


def trilat(*args, check=True):
    if not pathlib.Path(TRILAT_BIN).exists():
        pytest.skip(f"trilat binary {TRILAT_BIN} is absent (cargo build -p trilat)")
    res = subprocess.run([TRILAT_BIN, *map(str, args)], capture_output=True, text=True, timeout=300)
    if check and res.returncode != 0:
        raise AssertionError(f"trilat {' '.join(map(str, args))} exited {res.returncode}:\n{res.stdout}\n{res.stderr}")
    return res


def require(path):
    if not path.exists():
        pytest.skip(f"skipping: {path} is absent")


def assert_valid(bundle_text):
    results = validate_string(bundle_text, ValidationOptions(version="2.1", silent=True))
    results = results if isinstance(results, list) else [results]
    problems = [
        f"{r.object_id}: {e}" for r in results for e in (r.errors or [])
    ]
    assert all(r.is_valid for r in results), "\n".join(problems[:20])


def export(tmp_path, inputs, *flags):
    out = tmp_path / f"export-{uuid.uuid4()}.json"
    trilat("cyber", "export", *inputs, *flags, "--out", out)
    return out.read_text()


def ordered(text):
    """Objects of a bundle as ordered (key, value) pairs, by id and modified."""
    top = json.loads(text, object_pairs_hook=lambda pairs: pairs)
    # A file of one object (interop-objectmarking-test.json) is a bundle of one.
    objects = dict(top)["objects"] if dict(top)["type"] == "bundle" else [top]
    return {(dict(o)["id"], dict(o).get("modified")): o for o in objects}


def test_mitre_dprk_subset_round_trip(tmp_path):
    require(MITRE_DPRK)
    reports = tmp_path / "mitre.jsonl"
    res = trilat("cyber", "import", MITRE_DPRK, "--tlp", "CLEAR", "--out", reports, "--json")
    summary = json.loads(res.stdout)[0]
    assert summary["objects"] == 852 and summary["accepted"] == 852 and summary["rejected"] == 0
    bare = export(tmp_path, [reports], "--bare")
    assert_valid(bare)
    # Bare export: every object identical to the input, property order and
    # all, except that ATT&CK's STIX 2.0-era malware gains is_family (the one
    # upgrade import makes, appended last).
    source = ordered(MITRE_DPRK.read_text())
    exported = ordered(bare)
    assert exported.keys() == source.keys()
    n_upgraded = 0
    for key, pairs in source.items():
        if key[0].startswith("malware--") and "is_family" not in dict(pairs):
            assert exported[key] == pairs + [("is_family", True)]
            n_upgraded += 1
        else:
            assert exported[key] == pairs, key
    assert n_upgraded == 57
    marked = export(tmp_path, [reports])
    assert_valid(marked)
    exported = {o["id"]: o for o in json.loads(marked)["objects"]}
    lazarus = exported["intrusion-set--c93fccb1-e8e8-42cf-ae33-2ad1d183913a"]
    assert TLP2["CLEAR"] in lazarus["object_marking_refs"]
    # MITRE's copyright statement stays beside the added markings.
    assert "marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168" in lazarus["object_marking_refs"]
    assert any(k.startswith("x_mitre_") for k in lazarus)


@pytest.mark.parametrize("example", OASIS_EXAMPLES, ids=lambda p: p.name)
def test_oasis_examples_export_valid(tmp_path, example):
    res = trilat("cyber", "import", example, "--json")
    assert json.loads(res.stdout)[0]["rejected"] == 0
    bare = export(tmp_path, [example], "--bare")
    assert_valid(bare)
    assert ordered(bare) == ordered(example.read_text())
    assert_valid(export(tmp_path, [example]))


def indicator(value, marking_refs, extra=None):
    obj = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": "2025-06-01T00:00:00.000Z",
        "modified": "2025-06-01T00:00:00.000Z",
        "name": f"Kimsuky C2 {value}",
        "indicator_types": ["malicious-activity"],
        "pattern": f"[ipv4-addr:value = '{value}']",
        "pattern_type": "stix",
        "valid_from": "2025-06-01T00:00:00Z",
        "object_marking_refs": marking_refs,
        "x_trilat_source": "exercise fixture",
    }
    obj.update(extra or {})
    return obj


def releasability(level, rel_to):
    name = f"{level}|{','.join(rel_to)}|none"
    marking_uuid = uuid.uuid5(uuid.UUID(RELEASABILITY_EXTENSION.split("--")[1]), name)
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": f"marking-definition--{marking_uuid}",
        "created_by_ref": "identity--67119e33-e0d6-4875-9a79-386c2c35b9ea",
        "created": "2026-01-01T00:00:00.000Z",
        "name": f"{level}//REL TO {', '.join(rel_to)}",
        "extensions": {
            RELEASABILITY_EXTENSION: {
                "extension_type": "property-extension",
                "level": level,
                "rel_to": rel_to,
                "further_sharing": "none",
            }
        },
    }


def test_markings_survive_and_restrict_exports(tmp_path):
    usa_only = releasability("CONFIDENTIAL", ["USA"])
    usa_jpn = releasability("UNCLASSIFIED", ["USA", "JPN"])
    trilateral = releasability("UNCLASSIFIED", ["TRILAT"])
    objects = [usa_only, usa_jpn, trilateral]
    by_tlp = {}
    for n, (tlp, rel) in enumerate(
        [("CLEAR", trilateral), ("GREEN", trilateral), ("AMBER", usa_jpn), ("AMBER+STRICT", usa_jpn), ("RED", usa_only)]
    ):
        obj = indicator(f"175.45.178.{n + 1}", [TLP2[tlp], rel["id"]])
        by_tlp[tlp] = obj["id"]
        objects.append(obj)
    # A TLP:RED granular marking makes the whole object RED.
    granular = indicator("175.45.178.99", [trilateral["id"]], {
        "granular_markings": [{"marking_ref": TLP2["RED"], "selectors": ["pattern"]}],
    })
    objects.append(granular)
    bundle = tmp_path / "marked.json"
    bundle.write_text(json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}))
    reports = tmp_path / "marked.jsonl"
    trilat("cyber", "import", bundle, "--owner", "USA", "--out", reports)
    drafts = {json.loads(line)["payload"]["stix_id"]: json.loads(line) for line in reports.read_text().splitlines()}
    assert drafts[by_tlp["RED"]]["marking"] == {"level": "CONFIDENTIAL", "tlp": "RED", "rel_to": ["USA"], "further_sharing": "none"}
    assert drafts[by_tlp["AMBER"]]["marking"]["rel_to"] == ["USA", "JPN"]
    assert drafts[granular["id"]]["marking"]["tlp"] == "RED"

    everything = export(tmp_path, [reports], "--for", "USA")
    assert_valid(everything)
    for party, visible in {
        "JPN": {"CLEAR", "GREEN", "AMBER", "AMBER+STRICT"},
        "KOR": {"CLEAR", "GREEN"},
    }.items():
        text = export(tmp_path, [reports], "--for", party)
        assert_valid(text)
        ids = {o["id"] for o in json.loads(text)["objects"]}
        assert {t for t, i in by_tlp.items() if i in ids} == visible, party
        assert granular["id"] not in ids, party
        # The releasability that names only the USA never reaches them either.
        assert usa_only["id"] not in ids, party
    # Re-importing an export recovers the same markings.
    again = tmp_path / "again.jsonl"
    reexport = tmp_path / "reexport.json"
    reexport.write_text(everything)
    trilat("cyber", "import", reexport, "--owner", "USA", "--out", again)
    markings = {json.loads(l)["payload"]["stix_id"]: json.loads(l)["marking"] for l in again.read_text().splitlines()}
    for stix_id, draft in drafts.items():
        if draft["payload"]["stix_type"] == "indicator":
            assert markings[stix_id] == draft["marking"], stix_id


def test_bad_input_is_reported_not_imported(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"type": "bundle", "id": "bundle--x", "objects": [')
    res = trilat("cyber", "import", bad, check=False)
    assert res.returncode == 1 and "malformed JSON" in res.stderr
    mixed = tmp_path / "mixed.json"
    good = indicator("175.45.178.7", [TLP2["GREEN"]])
    broken = indicator("175.45.178.8", [TLP2["GREEN"]], {"pattern": "[ipv4-addr:value = '1.2.3.4'"})
    mixed.write_text(json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": [good, broken]}))
    out = tmp_path / "mixed.jsonl"
    res = trilat("cyber", "import", mixed, "--json", "--out", out, check=False)
    assert res.returncode == 3  # done, some input refused
    summary = json.loads(res.stdout)[0]
    assert summary["accepted"] == 1 and summary["rejected"] == 1
    assert "invalid pattern" in summary["rejections"][0] and broken["id"] in summary["rejections"][0]
    assert len(out.read_text().splitlines()) == 1
