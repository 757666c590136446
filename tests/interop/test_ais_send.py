"""`trilat ais send` against a running node: the CLI reads an NMEA file
(the demo scenario's Japanese feed, written by `trilat ais synth`) and posts
it in chunks to `POST /api/v1/ais/nmea`; the node's AIS engine publishes the
events as `maritime.event` reports, readable through the report API.
"""
import subprocess

import requests

from node_process import start_node


def test_ais_send_publishes_the_demo_events(trilat_bin, tmp_path):
    nodes = start_node(trilat_bin, tmp_path, "")
    url, token = next(nodes)
    try:
        feed = tmp_path / "jcg.nmea"
        with open(feed, "w", encoding="ascii") as out:
            subprocess.run([trilat_bin, "ais", "synth", "--demo", "jpn"], stdout=out, check=True)
        with open(feed, "a", encoding="ascii") as out:
            out.write("not nmea at all\n" + "!" * 2000 + "\n")
        n_lines = sum(1 for _ in open(feed, encoding="ascii"))

        sent = subprocess.run(
            [trilat_bin, "ais", "send", str(feed), "--node", url, "--chunk-lines", "250"],
            env={"TRILAT_TOKEN": token, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
        )
        assert sent.returncode == 0, sent.stderr
        # The over-long line is skipped by the CLI, the garbage line refused by the node.
        assert f"sent {n_lines - 1} lines" in sent.stderr, sent.stderr
        assert "skipped 1 " in sent.stderr, sent.stderr
        assert "the node refused 1;" in sent.stderr, sent.stderr

        answer = requests.get(
            f"{url}/api/v1/reports",
            params={"kind": "maritime.event", "limit": 1000},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        answer.raise_for_status()
        reports = answer.json()["reports"]
        events = {r["payload"]["event"] for r in reports}
        assert "encounter" in events or "gap" in events, events
        assert "identity-anomaly" in events, events

        refused = subprocess.run(
            [trilat_bin, "ais", "send", str(feed), "--node", url, "--token", "trl_wrong"],
            capture_output=True,
            text=True,
        )
        assert refused.returncode != 0
        assert "401" in refused.stderr, refused.stderr
    finally:
        next(nodes, None)
