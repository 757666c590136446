"""A node's Cursor-on-Target feed through a real TAK server, read back by a
real TAK client library.

Starts two `taky` servers (the pure-Python TAK server from PyPI) on
loopback, a USA node (`trilat init` + `trilat serve`) with two `[[tak]]`
endpoints:

- `jpn-tak`: a JPN server accredited up to CONFIDENTIAL, real-world feed;
- `usa-tak`: a USA server up to SECRET, with the node's AIS picture.

A `pytak` client connected to each server announces itself and collects
every CoT event the server routes to it. The test posts reports through the
node's API and checks what arrives: types, uids, positions, course, the
impact ellipse, the marking in the detail; that a report the destination may
not see (not released to JPN, above CONFIDENTIAL, an exercise report) never
arrives; that a version narrowed away from JPN deletes the marker there; and
that every release is in the node's audit log; and that after the server
restarts the node draws the picture there again.
"""
import asyncio
import configparser
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET

import pytest
import requests

from node_process import free_port, start_node

pytak = pytest.importorskip("pytak")

USA_ONLY = {"level": "UNCLASSIFIED", "tlp": "GREEN", "rel_to": ["USA"], "further_sharing": "none"}
TRILAT_UNCLAS = {"level": "UNCLASSIFIED", "tlp": "GREEN", "rel_to": ["TRILAT"], "further_sharing": "none"}
TRILAT_CONF = {"level": "CONFIDENTIAL", "tlp": "AMBER", "rel_to": ["TRILAT"], "further_sharing": "none"}
TRILAT_SECRET = {"level": "SECRET", "tlp": "AMBER", "rel_to": ["TRILAT"], "further_sharing": "none"}
WAIT_S = 30


def taky_bin() -> str:
    here = pathlib.Path(sys.executable).parent / "taky"
    path = str(here) if here.exists() else shutil.which("taky")
    if not path:
        pytest.skip("taky is not installed (pip install -r tests/interop/requirements.txt)")
    return path


def start_taky(tmp_path: pathlib.Path, name: str, port: int = 0):
    root = tmp_path / name
    root.mkdir()
    port = port or free_port()
    (root / "taky.conf").write_text(
        f"[taky]\nhostname = localhost\nbind_ip = 127.0.0.1\nroot_dir = {root}\n"
        f"[cot_server]\nport = {port}\n[dp_server]\nupload_path = {root / 'dp'}\n[ssl]\nenabled = false\n"
    )
    proc = subprocess.Popen(
        [taky_bin(), "-c", str(root / "taky.conf"), "-l", "info"],
        stdout=subprocess.DEVNULL,
        stderr=open(root / "taky.log", "wb"),
    )
    deadline = time.time() + WAIT_S
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                pytest.fail(f"taky did not start: {(root / 'taky.log').read_text()}")
            time.sleep(0.1)


class CotCollector:
    """A pytak TCP client of one TAK server: announces itself as a ground
    unit, then keeps every event the server sends it (parsed with ElementTree)."""

    def __init__(self, port: int, uid: str, tls: dict | None = None):
        """`tls`: pytak's PYTAK_TLS_* settings, to connect over TLS."""
        self.port, self.uid, self.tls = port, uid, tls
        self.events = []
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.failure = None
        self.thread = threading.Thread(target=lambda: asyncio.run(self.run()), daemon=True)
        self.thread.start()
        assert self.ready.wait(WAIT_S), f"pytak did not connect: {self.failure}"

    async def run(self):
        try:
            config = configparser.ConfigParser()
            scheme = "tls" if self.tls else "tcp"
            config["reader"] = {"COT_URL": f"{scheme}://127.0.0.1:{self.port}", **(self.tls or {})}
            reader, writer = await pytak.protocol_factory(config["reader"])
            hello = pytak.gen_cot_xml(lat=35.0, lon=139.0, uid=self.uid, cot_type="a-f-G-U-C", callsign=self.uid, stale=3600)
            writer.write(ET.tostring(hello))
            await writer.drain()
            self.ready.set()
            while True:
                raw = await reader.readuntil(b"</event>")
                start = raw.find(b"<event")
                event = ET.fromstring(raw[start:])
                with self.lock:
                    self.events.append(event)
        except Exception as e:  # reported by the waits below
            self.failure = repr(e)
            self.ready.set()

    def snapshot(self):
        with self.lock:
            return list(self.events)

    def wait_for(self, predicate, what: str):
        deadline = time.time() + WAIT_S
        while time.time() < deadline:
            found = [e for e in self.snapshot() if predicate(e)]
            if found:
                return found
            time.sleep(0.1)
        uids = [(e.get("uid"), e.get("type")) for e in self.snapshot()]
        pytest.fail(f"no {what} within {WAIT_S} s (failure: {self.failure}); got {uids}")


def post(url, token, kind, marking, payload, geometry=None, exercise=False):
    body = {"kind": kind, "marking": marking, "payload": payload, "exercise": exercise}
    if geometry:
        body["geometry"] = geometry
    answer = requests.post(f"{url}/api/v1/reports", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert answer.status_code in (200, 201), answer.text
    return answer.json()["report"]


def track(track_id: int, lat: float, lon: float) -> dict:
    return {
        "track_id": track_id, "time": "2026-12-07T00:00:00Z", "lat": lat, "lon": lon, "height_km": 120.5,
        "speed_mps": 2500.0, "phase": "ballistic", "p_ballistic": 0.97, "state": "live",
        "parties": ["USA"], "n_detections": 40,
    }


def assessment(track_id: int) -> dict:
    impact = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() + 420))
    return {
        "track_id": track_id, "assessed_at": impact, "launch_time": impact, "launch_lat": 39.0,
        "launch_lon": 125.7, "launch_method": "backtrack", "apogee_km": 550.0, "range_km": 1000.0,
        "flight_time_s": 600.0, "impact_time": impact, "impact_lat": 40.5, "impact_lon": 137.25,
        "impact_ellipse": {"semi_major_km": 12.0, "semi_minor_km": 4.0, "bearing_deg": 80.0, "confidence": 0.95},
        "class": "MRBM", "energy_range_km": 1000.0, "overflown": [], "p_impact_in_jpn_eez": 0.8,
        "p_impact_in_jpn_territory": 0.0, "p_impact_on_land": 0.0, "zones_approximate": True,
        "parties": ["USA"], "n_detections": 120, "track_live": True, "impact_time_s": 600.0, "launch_time_s": 0.0,
    }


def quake(event_id: str, lat: float, lon: float) -> dict:
    return {
        "id": event_id, "format": "usgs-geojson", "agency": "us",
        "origin": {"time": "2017-09-03T03:30:01.760Z", "lat": lat, "lon": lon, "depth_km": 0.0, "depth_fixed": True},
        "magnitudes": [{"scale": "mb", "raw_type": "mb", "value": 6.3}],
        "event_type": "nuclear explosion", "region": "North Korea",
    }


def point(event):
    p = event.find("point")
    return float(p.get("lat")), float(p.get("lon"))


def by_uid(uid):
    return lambda e: e.get("uid") == uid


@pytest.fixture()
def setup(trilat_bin, tmp_path):
    jpn_taky, jpn_port = start_taky(tmp_path, "taky-jpn")
    usa_taky, usa_port = start_taky(tmp_path, "taky-usa")
    jpn = CotCollector(jpn_port, "pytak-jpn")
    usa = CotCollector(usa_port, "pytak-usa")
    tak = f"""
[[tak]]
name = "jpn-tak"
address = "127.0.0.1:{jpn_port}"
party = "JPN"
level_max = "CONFIDENTIAL"

[[tak]]
name = "usa-tak"
address = "127.0.0.1:{usa_port}"
party = "USA"
level_max = "SECRET"
vessels = true
vessel_interval_s = 1
"""
    nodes = start_node(trilat_bin, tmp_path, tak)
    url, token = next(nodes)
    servers = {"jpn": jpn_taky, "usa": usa_taky}

    def restart_jpn():
        """Stops JPN's server and starts a fresh one on the same port."""
        servers["jpn"].terminate()
        servers["jpn"].wait(timeout=10)
        servers["jpn"], _ = start_taky(tmp_path, "taky-jpn-again", port=jpn_port)
        return CotCollector(jpn_port, "pytak-jpn-again")

    try:
        yield url, token, jpn, usa, restart_jpn
    finally:
        next(nodes, None)
        for proc in servers.values():
            proc.terminate()
            proc.wait(timeout=10)


def test_the_picture_reaches_tak_and_nothing_more(setup, trilat_bin, tmp_path):
    url, token, jpn, usa, restart_jpn = setup

    # What JPN may see, in the order a launch unfolds.
    post(url, token, "missile.track", TRILAT_UNCLAS, track(7, 39.0, 127.0))
    post(url, token, "missile.track", TRILAT_UNCLAS, track(7, 39.0, 127.1))
    post(url, token, "missile.assessment", TRILAT_CONF, assessment(7))
    released_quake = post(url, token, "seismic.event", TRILAT_UNCLAS, quake("us-released", 41.343, 129.036))
    # What JPN may not see: USA only, SECRET (above the server), an exercise.
    usa_only = post(url, token, "seismic.event", USA_ONLY, quake("us-usa-only", 41.0, 129.0))
    secret = post(url, token, "seismic.event", TRILAT_SECRET, quake("us-secret", 41.1, 129.1))
    exercise = post(url, token, "seismic.event", TRILAT_UNCLAS, quake("us-exercise", 41.2, 129.2), exercise=True)

    tracks = jpn.wait_for(lambda e: by_uid("trilat.USA.missile.7")(e) and e.find("detail/track") is not None, "missile track with a course")
    missile = tracks[-1]
    assert missile.get("type") == "a-h-A-W-M-B"
    assert point(missile) == (39.0, 127.1)
    assert float(missile.find("point").get("hae")) == 120500.0
    assert abs(float(missile.find("detail/track").get("course")) - 90.0) < 0.1
    assert float(missile.find("detail/track").get("speed")) == 2500.0

    impact = jpn.wait_for(by_uid("trilat.USA.impact.7"), "impact point")[-1]
    assert impact.get("type") == "u-d-c-e"
    assert point(impact) == (40.5, 137.25)
    ellipse = impact.find("detail/shape/ellipse")
    assert (float(ellipse.get("major")), float(ellipse.get("minor")), float(ellipse.get("angle"))) == (12000.0, 4000.0, 80.0)
    assert impact.find("detail/__trilat").get("level") == "CONFIDENTIAL"
    assert impact.find("detail/remarks").text.startswith("CONFIDENTIAL//REL TO TRILAT//TLP:AMBER")

    seismic = jpn.wait_for(by_uid(f"trilat.USA.{released_quake['id']}"), "seismic event")[-1]
    assert seismic.get("type") == "b-m-p-s-m"
    assert point(seismic) == (41.343, 129.036)

    # The refused ones: give the feed time to have sent them, had it meant to
    # (it sends in order, and something posted after them must arrive first).
    post(url, token, "seismic.event", TRILAT_UNCLAS, quake("us-marker", 42.0, 130.0))
    jpn.wait_for(lambda e: e.find("detail/remarks") is not None and "us-marker" in (e.find("detail/remarks").text or ""), "the marker event")
    jpn_uids = {e.get("uid") for e in jpn.snapshot()}
    for refused in (usa_only, secret, exercise):
        assert f"trilat.USA.{refused['id']}" not in jpn_uids, refused["marking"]
    # Every event that came from the node carries a marking JPN may hold.
    for event in jpn.snapshot():
        marking = event.find("detail/__trilat")
        if marking is None:
            continue  # another client of the server (none expected here)
        assert marking.get("level") in ("UNCLASSIFIED", "CONFIDENTIAL"), ET.tostring(event)
        assert "JPN" in marking.get("rel_to") or "TRILAT" in marking.get("rel_to"), ET.tostring(event)
        assert event.get("opex") is None

    # A new version that narrows the marking away from JPN deletes the marker
    # there; the delete carries what JPN already held, not the new version.
    narrowed = requests.put(
        f"{url}/api/v1/reports/{released_quake['owner']}/{released_quake['id']}",
        json={"kind": "seismic.event", "marking": USA_ONLY, "payload": quake("us-released-narrowed", 41.5, 129.5)},
        headers={"Authorization": f"Bearer {token}"}, timeout=10,
    )
    assert narrowed.status_code in (200, 201), narrowed.text
    delete = jpn.wait_for(lambda e: e.get("type") == "t-x-d-d" and e.find("detail/link") is not None
                          and e.find("detail/link").get("uid") == f"trilat.USA.{released_quake['id']}", "the delete")[-1]
    assert delete.find("detail/__trilat").get("rel_to") == "TRILAT"
    assert "narrowed" not in ET.tostring(delete, encoding="unicode")
    assert point(delete) == (41.343, 129.036)

    # USA's own server (up to SECRET) received the USA-only and SECRET ones.
    usa.wait_for(by_uid(f"trilat.USA.{usa_only['id']}"), "the USA-only event at the USA server")
    usa.wait_for(by_uid(f"trilat.USA.{secret['id']}"), "the SECRET event at the USA server")

    # Every release to JPN's server is in the audit log, none of the refused.
    audit = requests.get(f"{url}/api/v1/audit", params={"limit": 1000}, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    audit.raise_for_status()
    to_jpn = [a["event"] for a in audit.json()["entries"] if a["event"]["actor"] == "tak:jpn-tak"]
    audited = {a["report_id"] for a in to_jpn if a["action"] == "release"}
    assert released_quake["id"] in audited
    for refused in (usa_only, secret, exercise):
        assert refused["id"] not in audited
    assert all(a["counterparty"] == "JPN" for a in to_jpn)
    withdrawn = [a for a in to_jpn if a["action"] == "withdraw"]
    assert [a["report_id"] for a in withdrawn] == [released_quake["id"]]

    # Vessels of the node's AIS picture go to the USA server as MMSI-<n>, not to JPN's.
    feed = tmp_path / "usa.nmea"
    with open(feed, "w", encoding="ascii") as out:
        subprocess.run([trilat_bin, "ais", "synth", "--demo", "jpn"], stdout=out, check=True)
    sent = subprocess.run(
        [trilat_bin, "ais", "send", str(feed), "--node", url],
        env={"TRILAT_TOKEN": token, "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
        capture_output=True, text=True,
    )
    assert sent.returncode == 0, sent.stderr
    vessels = usa.wait_for(lambda e: (e.get("uid") or "").startswith("MMSI-"), "vessels")
    for vessel in vessels:
        assert vessel.get("type").startswith(("a-u-S-X-", "a-s-S-X-")), vessel.get("type")
        lat, lon = point(vessel)
        assert -90 <= lat <= 90 and -180 <= lon <= 180
    assert not [e for e in jpn.snapshot() if (e.get("uid") or "").startswith("MMSI-")]

    # JPN's server restarts: the node reconnects and draws the picture again
    # (what is not stale), without what was deleted or never released.
    jpn_again = restart_jpn()
    jpn_again.wait_for(by_uid("trilat.USA.impact.7"), "the impact point redrawn")
    redrawn = {e.get("uid") for e in jpn_again.snapshot()}
    for gone in (released_quake, usa_only, secret, exercise):
        assert f"trilat.USA.{gone['id']}" not in redrawn
