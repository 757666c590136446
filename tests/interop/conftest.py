"""Shared fixtures for the interoperability tests.

`trilat_bin` is the binary under test (env TRILAT_BIN, set by scripts/test);
`shared_data` is ../shared/data (env TRILAT_SHARED_DATA overrides), or a
skip that says so when it is absent.
"""
import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def trilat_bin() -> str:
    path = os.environ.get("TRILAT_BIN", str(ROOT / "target" / "debug" / "trilat"))
    if not os.path.exists(path):
        pytest.fail(f"trilat binary not found at {path}: run `cargo build -p trilat` or set TRILAT_BIN")
    return path


@pytest.fixture(scope="session")
def shared_data() -> pathlib.Path:
    path = pathlib.Path(os.environ.get("TRILAT_SHARED_DATA", str(ROOT.parent / "shared" / "data")))
    if not path.is_dir():
        pytest.skip(f"shared data not found at {path}; skipping real-data interop test")
    return path
