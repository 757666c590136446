"""A node's Cursor-on-Target feed over TLS to a real TAK server with SSL on,
read back over TLS by a real TAK client library.

`takyctl setup` makes a taky site with its own CA and server certificate
(the subject alternative name is the `--host` given: `localhost`), and
`takyctl build_client --dump_pem` a client certificate for the node and one
for the `pytak` reader, as an operator would. taky requires a client
certificate from its CA (`client_cert_required`, its default). The node's
`[[tak]]` endpoint has `tls = true`, taky's `ca.crt` as the only root, the
client certificate and key taky wrote (PKCS#1 RSA), and `server_name =
"localhost"`. The test checks that taky accepted both clients over SSL (its
log), that the track and seismic event arrive with their types and
positions, that a SECRET report never reaches this CONFIDENTIAL server, and
that each release is audited.
"""
import configparser
import pathlib
import shutil
import socket
import subprocess
import sys
import time

import pytest
import requests

from test_tak_taky import (
    TRILAT_SECRET,
    TRILAT_UNCLAS,
    WAIT_S,
    CotCollector,
    by_uid,
    point,
    post,
    quake,
    taky_bin,
    track,
)
from node_process import free_port, start_node

pytest.importorskip("pytak")


def takyctl_bin() -> str:
    here = pathlib.Path(sys.executable).parent / "takyctl"
    path = str(here) if here.exists() else shutil.which("takyctl")
    if not path:
        pytest.skip("takyctl is not installed (pip install -r tests/interop/requirements.txt)")
    return path


def takyctl(*args, cwd):
    done = subprocess.run([takyctl_bin(), *args], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, f"takyctl {args}: {done.stdout}\n{done.stderr}"


def client_files(site: pathlib.Path, name: str):
    """A client certificate and key from taky's CA (`build_client --dump_pem`
    writes NAME-<uuid>.crt and .key into the working folder)."""
    takyctl("-c", str(site / "taky.conf"), "build_client", "--dump_pem", name, cwd=site)
    (crt,) = site.glob(f"{name}-*.crt")
    (key,) = site.glob(f"{name}-*.key")
    return crt, key


def start_taky_ssl(tmp_path: pathlib.Path):
    site = tmp_path / "taky-ssl"
    takyctl("setup", "--host", "localhost", "--public-ip", "127.0.0.1", "--bind-ip", "127.0.0.1", str(site), cwd=tmp_path)
    # taky writes options without values (`redis`, `key_pw`): read as it does.
    config = configparser.ConfigParser(allow_no_value=True)
    config.read(site / "taky.conf")
    assert config.getboolean("ssl", "enabled")
    port = free_port()
    config.set("cot_server", "port", str(port))
    # The monitor port defaults to 8087 with SSL on: a free one instead.
    config.set("cot_server", "mon_port", str(free_port()))
    with open(site / "taky.conf", "w", encoding="utf-8") as out:
        config.write(out)
    node_crt, node_key = client_files(site, "trilat-usa")
    reader_crt, reader_key = client_files(site, "pytak-jpn")
    log = site / "taky.log"
    proc = subprocess.Popen(
        [taky_bin(), "-c", str(site / "taky.conf"), "-l", "info"],
        cwd=site,
        stdout=subprocess.DEVNULL,
        stderr=open(log, "wb"),
    )
    deadline = time.time() + WAIT_S
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                pytest.fail(f"taky did not start: {log.read_text()}")
            time.sleep(0.1)
    return proc, port, site, (node_crt, node_key), (reader_crt, reader_key), log


@pytest.fixture()
def setup(trilat_bin, tmp_path):
    taky, port, site, (node_crt, node_key), (reader_crt, reader_key), log = start_taky_ssl(tmp_path)
    reader = CotCollector(port, "pytak-jpn", tls={
        "PYTAK_TLS_CLIENT_CERT": str(reader_crt),
        "PYTAK_TLS_CLIENT_KEY": str(reader_key),
        "PYTAK_TLS_CLIENT_CAFILE": str(site / "ssl" / "ca.crt"),
        "PYTAK_TLS_SERVER_EXPECTED_HOSTNAME": "localhost",
    })
    tak = f"""
[[tak]]
name = "jpn-tls"
address = "127.0.0.1:{port}"
tls = true
ca_file = "{site / 'ssl' / 'ca.crt'}"
cert_file = "{node_crt}"
key_file = "{node_key}"
server_name = "localhost"
party = "JPN"
level_max = "CONFIDENTIAL"
"""
    nodes = start_node(trilat_bin, tmp_path, tak)
    url, token = next(nodes)
    try:
        yield url, token, reader, log
    finally:
        next(nodes, None)
        taky.terminate()
        taky.wait(timeout=10)


def test_the_feed_reaches_taky_over_tls_with_a_client_certificate(setup):
    url, token, reader, log = setup

    post(url, token, "missile.track", TRILAT_UNCLAS, track(9, 39.0, 127.0))
    post(url, token, "missile.track", TRILAT_UNCLAS, track(9, 39.0, 127.2))
    released = post(url, token, "seismic.event", TRILAT_UNCLAS, quake("us-tls", 41.343, 129.036))
    secret = post(url, token, "seismic.event", TRILAT_SECRET, quake("us-tls-secret", 41.1, 129.1))
    marker = post(url, token, "seismic.event", TRILAT_UNCLAS, quake("us-tls-marker", 42.0, 130.0))

    missile = reader.wait_for(
        lambda e: by_uid("trilat.USA.missile.9")(e) and e.find("detail/track") is not None, "the missile track over TLS"
    )[-1]
    assert missile.get("type") == "a-h-A-W-M-B"
    assert point(missile) == (39.0, 127.2)
    seismic = reader.wait_for(by_uid(f"trilat.USA.{released['id']}"), "the seismic event over TLS")[-1]
    assert seismic.get("type") == "b-m-p-s-m"
    assert point(seismic) == (41.343, 129.036)
    assert seismic.find("detail/__trilat").get("banner") == "UNCLASSIFIED//REL TO TRILAT//TLP:GREEN"
    # In order: once the marker posted after it is here, the SECRET one would be too.
    reader.wait_for(by_uid(f"trilat.USA.{marker['id']}"), "the marker event")
    assert f"trilat.USA.{secret['id']}" not in {e.get("uid") for e in reader.snapshot()}

    # Both the node and the reader came in over SSL with their certificates.
    text = log.read_text(errors="replace")
    assert text.count("New ssl cot client from 127.0.0.1") >= 2, text
    assert "New tcp cot client" not in text, text

    audit = requests.get(f"{url}/api/v1/audit", params={"limit": 1000}, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    audit.raise_for_status()
    released_ids = {a["event"]["report_id"] for a in audit.json()["entries"]
                    if a["event"]["actor"] == "tak:jpn-tls" and a["event"]["action"] == "release"}
    assert {released["id"], marker["id"]} <= released_ids
    assert secret["id"] not in released_ids
