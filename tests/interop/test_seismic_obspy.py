"""`trilat seismic assess --json` against ObsPy's readers on the same files:
the same events, the same origin times, epicentres, depths, magnitudes and
event types. ObsPy is the reference reader of QuakeML 1.2, IMS1.0 (its
`obspy.io.iaspei`) and, here, nothing else: ObsPy has no USGS GeoJSON
reader, so that file is compared with the JSON itself.
"""
import json
import subprocess

import pytest

obspy = pytest.importorskip("obspy", reason="obspy not installed (pip install obspy)")

FILES = [
    ("obspy_testdata/quakeml/usgs_event.xml", "QUAKEML"),
    ("obspy_testdata/quakeml/iris_events.xml", "QUAKEML"),
    ("obspy_testdata/quakeml/qml-example-1.2-RC3.xml", "QUAKEML"),
    ("obspy_testdata/iaspei/ipe202409sel_ims.txt", "IMS10BULLETIN"),
]


def ours(trilat_bin, path):
    out = subprocess.run(
        [trilat_bin, "seismic", "assess", str(path), "--json"],
        capture_output=True, text=True, check=True,
    )
    return json.loads(out.stdout)


def close(a, b, tol):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= tol


@pytest.mark.parametrize("rel,fmt", FILES)
def test_same_events_and_figures_as_obspy(trilat_bin, shared_data, rel, fmt):
    path = shared_data / "seismic" / rel
    theirs = obspy.read_events(str(path), format=fmt)
    doc = ours(trilat_bin, path)
    events = doc["events"]
    by_id = {e["id"]: e for e in events}
    assert len(by_id) == len(events), rel
    if fmt == "IMS10BULLETIN":  # ObsPy makes up resource ids; the order is the file's
        pairs = list(zip(events, theirs))
        assert len(events) == len(theirs), rel
    else:
        pairs = [(by_id[str(ev.resource_id)], ev) for ev in theirs]
        # ObsPy drops an event whose type is outside QuakeML's vocabulary (ComCat's
        # "quarry", with a warning); we keep it with the type as written.
        extra = [e for e in events if e["id"] not in {str(ev.resource_id) for ev in theirs}]
        assert [e["event_type"] for e in extra] == (["quarry"] if "usgs_event" in rel else []), rel
    for mine, ev in pairs:
        origin = ev.preferred_origin() or ev.origins[0]
        t = obspy.UTCDateTime(mine["origin"]["time"])
        assert abs(t - origin.time) < 1e-3, (rel, mine["id"])
        assert close(mine["origin"]["lat"], origin.latitude, 1e-9), (rel, mine["id"])
        assert close(mine["origin"]["lon"], origin.longitude, 1e-9), (rel, mine["id"])
        depth_m = None if mine["origin"]["depth_km"] is None else mine["origin"]["depth_km"] * 1000.0
        assert close(depth_m, origin.depth, 1e-6), (rel, mine["id"], depth_m, origin.depth)
        assert (ev.event_type or None) == mine["event_type"], (rel, mine["id"])
        their_mags = sorted((m.magnitude_type or "", round(m.mag, 6)) for m in ev.magnitudes)
        my_mags = sorted((m["raw_type"], round(m["value"], 6)) for m in mine["magnitudes"])
        assert my_mags == their_mags, (rel, mine["id"])
    assert len(doc["assessments"]) == len(events)
    assert not any(a["likely_nuclear_test"] for a in doc["assessments"])


def test_quakeml_1_0_is_refused_where_obspy_reads_it(trilat_bin, shared_data):
    path = shared_data / "seismic" / "obspy_testdata/quakeml/neries_events.xml"
    assert len(obspy.read_events(str(path))) == 3  # ObsPy reads QuakeML 1.0 too
    out = subprocess.run([trilat_bin, "seismic", "assess", str(path)], capture_output=True, text=True)
    assert out.returncode == 1
    assert "QuakeML, line 2" in out.stderr and "quakeml/1.0" in out.stderr, out.stderr


def test_geojson_feed_matches_its_own_json(trilat_bin, shared_data):
    path = shared_data / "seismic" / "usgs_geojson_example.json"
    feed = json.loads(path.read_text())
    events = ours(trilat_bin, path)["events"]
    assert [e["id"] for e in events] == [f["id"] for f in feed["features"]]
    for mine, f in zip(events, feed["features"]):
        lon, lat, depth = f["geometry"]["coordinates"]
        assert (mine["origin"]["lat"], mine["origin"]["lon"], mine["origin"]["depth_km"]) == (lat, lon, depth)
        t = obspy.UTCDateTime(mine["origin"]["time"])
        assert round(t.timestamp * 1000) == f["properties"]["time"]
        assert mine["magnitudes"][0]["value"] == f["properties"]["mag"]
