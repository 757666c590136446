#!/usr/bin/env python3
"""pyais side of the AIS decode benchmark.

Usage: /work/venv-ais/bin/python scripts/bench/ais_pyais.py /tmp/ais_positions.nmea
Decodes every line of the file with pyais (full decode of each message, as
pyais always does) and prints sentences per second of thread CPU time (the machine is shared, so
wall time would count other processes), best of 3 runs.
The Rust side: AIS_BENCH_INPUT=/tmp/ais_positions.nmea cargo bench -p trilat-ais --bench decode
"""
import sys
import time

import pyais
from pyais import decode


def run(lines):
    n_ok = 0
    n_err = 0
    t0 = time.thread_time()
    for line in lines:
        try:
            msg = decode(line)
            # Read the same fields the Rust side reads.
            _ = (msg.mmsi, msg.lat, msg.lon, msg.speed, msg.course, msg.heading)
            n_ok += 1
        except Exception:  # noqa: BLE001 - counted, like the Rust decoder's errors
            n_err += 1
    return time.thread_time() - t0, n_ok, n_err


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "/tmp/ais_positions.nmea"
    with open(path, "rb") as f:
        lines = [l.rstrip(b"\r\n") for l in f if l.strip()]
    best = None
    for _ in range(3):
        dt, n_ok, n_err = run(lines)
        best = dt if best is None else min(best, dt)
    print(f"pyais {pyais.__version__}: {len(lines)} sentences, {n_ok} decoded, {n_err} errors, "
          f"best {best:.3f} s = {len(lines) / best:,.0f} sentences/s")


if __name__ == "__main__":
    main()
