"""One way to start a node in the interop tests: `trilat init` then
`trilat serve` (binary at TRILAT_BIN) on a free loopback port.

`start_node` is a generator for fixtures: it yields `(url, admin_token)`
and stops the node when resumed.
"""
import re
import socket
import subprocess
import time
import urllib.request

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_node(trilat_bin, tmp_path, extra_config):
    port = free_port()
    init = subprocess.run(
        [trilat_bin, "init", "--party", "USA", "--dir", str(tmp_path / "usa"), "--listen", f"127.0.0.1:{port}"],
        check=True,
        capture_output=True,
        text=True,
    )
    token = re.search(r"^\s+(trl_\S+)\s*$", init.stdout, re.M)
    assert token, init.stdout
    if extra_config:
        with open(tmp_path / "usa" / "trilat.toml", "a", encoding="utf-8") as config:
            config.write(extra_config)
    # The node's log goes to a file: a pipe nobody reads would fill and
    # block the node.
    log_path = tmp_path / "usa" / "serve.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [trilat_bin, "serve", "--config", str(tmp_path / "usa" / "trilat.toml")],
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=1)
            break
        except urllib.error.HTTPError:
            break  # Answering, whatever the path says.
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                log.close()
                pytest.fail(f"node did not start: {log_path.read_text(errors='replace')}")
            time.sleep(0.1)
    yield url, token.group(1)
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()
