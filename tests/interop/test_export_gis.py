"""`trilat report export --format geojson|kml` against a running node, read
by the Python GIS libraries: `geojson` (RFC 7946 validation) and `fastkml`
(KML 2.2, strict parsing of the OGC namespace).

Posts three reports (a point, a polygon, one without a geometry) and one
exercise report, exports the real-world seismic and note reports, and checks
that each library reads the document back with the same features, positions
and markings.
"""
import subprocess

import pytest
import requests

from node_process import start_node

geojson = pytest.importorskip("geojson")
fastkml = pytest.importorskip("fastkml")

MARKING = {"level": "UNCLASSIFIED", "tlp": "GREEN", "rel_to": ["TRILAT"], "further_sharing": "none"}
BANNER = "UNCLASSIFIED//REL TO TRILAT//TLP:GREEN"


def post(url, token, payload, geometry=None, exercise=False):
    body = {"kind": "note", "marking": MARKING, "payload": payload, "exercise": exercise}
    if geometry is not None:
        body["geometry"] = geometry
    answer = requests.post(f"{url}/api/v1/reports", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert answer.status_code == 201, answer.text
    return answer.json()["report"]


@pytest.fixture()
def node_with_reports(trilat_bin, tmp_path):
    nodes = start_node(trilat_bin, tmp_path, "")
    url, token = next(nodes)
    try:
        point = post(url, token, {"text": "launch site"}, {"type": "Point", "coordinates": [125.7, 39.0]})
        area = post(
            url, token, {"text": "closure area"},
            {"type": "Polygon", "coordinates": [[[130.0, 35.0], [131.0, 35.0], [131.0, 36.0], [130.0, 35.0]]]},
        )
        bare = post(url, token, {"text": "no place"})
        post(url, token, {"text": "exercise only"}, {"type": "Point", "coordinates": [1.0, 1.0]}, exercise=True)
        yield url, token, {"point": point, "area": area, "bare": bare}
    finally:
        next(nodes, None)


def export(trilat_bin, url, token, fmt, *flags):
    done = subprocess.run(
        [trilat_bin, "report", "export", "--format", fmt, "--node", url, "--kind", "note", "--exercise", "false", *flags],
        env={"TRILAT_TOKEN": token},
        capture_output=True,
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


def test_geojson_export_validates(node_with_reports, trilat_bin):
    url, token, posted = node_with_reports
    collection = geojson.loads(export(trilat_bin, url, token, "geojson").decode())
    assert isinstance(collection, geojson.FeatureCollection)
    assert collection.is_valid, collection.errors()
    by_id = {f["properties"]["id"]: f for f in collection["features"]}
    assert set(by_id) == {posted["point"]["id"], posted["area"]["id"], posted["bare"]["id"]}, "the exercise report is left out"
    point = by_id[posted["point"]["id"]]
    assert point["geometry"]["type"] == "Point" and list(point["geometry"]["coordinates"]) == [125.7, 39.0]
    assert point["properties"]["classification"] == BANNER
    assert by_id[posted["area"]["id"]]["geometry"]["type"] == "Polygon"
    assert by_id[posted["bare"]["id"]]["geometry"] is None


def test_kml_export_parses_as_kml_2_2(node_with_reports, trilat_bin):
    url, token, posted = node_with_reports
    document = fastkml.kml.KML.from_string(export(trilat_bin, url, token, "kml"), strict=True)
    placemarks = list(document.features[0].features)
    assert len(placemarks) == 2, "the report without a geometry has no placemark"
    by_id = {}
    for placemark in placemarks:
        data = {d.name: d.value for d in placemark.extended_data.elements}
        by_id[data["id"]] = (placemark, data)
    point, data = by_id[posted["point"]["id"]]
    assert (point.geometry.x, point.geometry.y) == (125.7, 39.0)
    assert data["classification"] == BANNER
    area, _ = by_id[posted["area"]["id"]]
    assert list(area.geometry.exterior.coords) == [(130.0, 35.0), (131.0, 35.0), (131.0, 36.0), (130.0, 35.0)]
