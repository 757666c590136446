"""The shipped scenarios against their JSON Schema, with the reference
`jsonschema` validator (installed with stix2-validator).

`scenarios/scenario.schema.json` is what authors and their editors check a
scenario against; `trilat exercise validate` is what the runner checks. This
test holds each shipped scenario (TOML read as JSON) to the schema, shows
the schema refuses what the runner refuses (a wrong TLP, an unknown field,
an unknown inject type, a seismic event off the globe, a sanctions hit
with an unknown decision), and that `trilat exercise validate` agrees on the
shipped files.
"""
import json
import subprocess
import tomllib

import pytest

from conftest import ROOT

jsonschema = pytest.importorskip("jsonschema")

SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))


@pytest.fixture(scope="module")
def validator():
    schema = json.loads((ROOT / "scenarios" / "scenario.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_the_issue_s_three_scenarios_are_shipped():
    names = {path.stem for path in SCENARIOS}
    assert {"freedom-edge-day", "lofted-icbm-gap", "degraded-network"} <= names


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_each_shipped_scenario_validates(validator, path):
    document = tomllib.loads(path.read_text())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    assert errors == []


@pytest.mark.parametrize(
    "field, value",
    [
        ("marking", {"level": "UNCLASSIFIED", "tlp": "PINK", "rel_to": ["TRILAT"]}),
        ("colour", "red"),
        ("type", "flood"),
        ("party", "usa"),
    ],
)
def test_the_schema_refuses_a_broken_inject(validator, field, value):
    inject = {
        "at_s": 0,
        "type": "note",
        "party": "USA",
        "text": "EXERCISE",
        "marking": {"level": "UNCLASSIFIED", "tlp": "GREEN", "rel_to": ["TRILAT"]},
    }
    assert validator.is_valid({"name": "x", "inject": [inject]})
    inject[field] = value
    assert not validator.is_valid({"name": "x", "inject": [inject]})


SEISMIC = {
    "at_s": 0,
    "type": "seismic",
    "party": "KOR",
    "format": "ims1",
    "epicentre": [41.3, 129.08],
    "depth_km": 0.7,
    "magnitude_mb": 5.6,
}
AIS_VESSELS = {
    "at_s": 0,
    "type": "ais_story",
    "play_s": 600,
    "vessel": [
        {
            "mmsi": 445123000,
            "name": "RYONGGANG 7",
            "heard_by": ["KOR"],
            "track": [[0, 32.5, 124.5], [4, 31.0, 124.5]],
            "dark_h": [[1, 3]],
        }
    ],
}
SANCTIONS_HIT = {
    "at_s": 0,
    "type": "sanctions_hit",
    "party": "JPN",
    "name": "Pak Chong Il",
    "schema": "person",
    "decision": "confirmed",
}


@pytest.mark.parametrize(
    "inject, field, value",
    [
        (SEISMIC, "epicentre", [41.3, 229.0]),
        (SEISMIC, "format", "sac"),
        (SEISMIC, "magnitude", 5.6),
        (SANCTIONS_HIT, "decision", "maybe"),
        (SANCTIONS_HIT, "country", "PRK"),
        (SANCTIONS_HIT, "schema", "ship"),
        (AIS_VESSELS, "story", "sts-encounter"),
        (AIS_VESSELS, "vessel", [{"mmsi": 12, "name": "X", "heard_by": ["KOR"], "track": [[0, 1, 1], [1, 1, 1]]}]),
    ],
)
def test_the_schema_refuses_a_broken_seismic_sanctions_or_vessel_inject(validator, inject, field, value):
    inject = dict(inject)
    assert validator.is_valid({"name": "x", "inject": [inject]})
    inject[field] = value
    assert not validator.is_valid({"name": "x", "inject": [inject]})


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.name)
def test_the_runner_reads_what_the_schema_accepts(trilat_bin, path):
    done = subprocess.run(
        [trilat_bin, "exercise", "validate", str(path)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
