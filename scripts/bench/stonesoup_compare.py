#!/usr/bin/env python3
"""Side-by-side with Stone Soup on the same simulated radar detections.

Stone Soup has no ballistic model with gravity, Earth rotation or drag, so its best available
choice here is a 3-D constant-acceleration model (which can follow both boost and coast) in a
Kalman filter. Each radar detection is converted to a Cartesian position in one local ENU frame
(centred on the first sensor) with its own covariance from the range and angle noise
(LinearGaussian per detection: a converted-measurement filter, which avoids per-sensor polar
frames). Association is GNN (GNNWith2DAssignment over a Mahalanobis DistanceHypothesiser),
initiation a MultiMeasurementInitiator (4 points), deletion an UpdateTimeDeleter (20 s).

Usage:
  trilat missile simulate --out-dir /tmp/ss --range-km 500 --apogee-km 550
  trilat missile assess --sensors /tmp/ss/SENSORS.json /tmp/ss/DETECTIONS.jsonl --json --timeline --tracks > /tmp/ss/trilat.jsonl
  /work/venv-missile/bin/python scripts/bench/stonesoup_compare.py /tmp/ss [--trilat /tmp/ss/trilat.jsonl]

Prints, for each tracker: wall time, detections per second, number of tracks, and the position
RMSE of the track states against the truth (TRUTH.json samples, interpolated).
"""
import argparse
import datetime as dt
import json
import math
import time

import numpy as np

A = 6378137.0
F = 1 / 298.257223563
E2 = F * (2 - F)


def geodetic_to_ecef(lat, lon, h):
    lat, lon = math.radians(lat), math.radians(lon)
    n = A / math.sqrt(1 - E2 * math.sin(lat) ** 2)
    return np.array([(n + h) * math.cos(lat) * math.cos(lon), (n + h) * math.cos(lat) * math.sin(lon), (n * (1 - E2) + h) * math.sin(lat)])


def enu_rotation(lat, lon):
    lat, lon = math.radians(lat), math.radians(lon)
    return np.array([
        [-math.sin(lon), math.cos(lon), 0],
        [-math.sin(lat) * math.cos(lon), -math.sin(lat) * math.sin(lon), math.cos(lat)],
        [math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)],
    ])


def parse_time(text):
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def truth_positions(path):
    """Per missile: (times, ECEF positions) from TRUTH.json samples."""
    out = []
    for m in json.load(open(path)):
        s = np.array(m["samples_unix_lat_lon_height_km"])
        pos = np.array([geodetic_to_ecef(lat, lon, h * 1000) for _, lat, lon, h in s])
        out.append((s[:, 0], pos))
    return out


def nearest_truth_error(truths, t, p):
    best = math.inf
    for times, pos in truths:
        if t < times[0] or t > times[-1]:
            continue
        k = np.searchsorted(times, t)
        k = min(max(k, 1), len(times) - 1)
        w = (t - times[k - 1]) / (times[k] - times[k - 1])
        q = pos[k - 1] * (1 - w) + pos[k] * w
        best = min(best, float(np.linalg.norm(q - p)))
    return best


def run_stonesoup(sensors, lines, origin):
    from stonesoup.types.detection import Detection, Clutter  # noqa: F401
    from stonesoup.types.state import GaussianState
    from stonesoup.types.array import StateVector, CovarianceMatrix
    from stonesoup.models.transition.linear import CombinedLinearGaussianTransitionModel, ConstantAcceleration
    from stonesoup.models.measurement.linear import LinearGaussian
    from stonesoup.predictor.kalman import ExtendedKalmanPredictor, KalmanPredictor
    from stonesoup.updater.kalman import ExtendedKalmanUpdater, KalmanUpdater
    from stonesoup.hypothesiser.distance import DistanceHypothesiser
    from stonesoup.measures import Mahalanobis
    from stonesoup.dataassociator.neighbour import GNNWith2DAssignment
    from stonesoup.deleter.time import UpdateTimeDeleter
    from stonesoup.initiator.simple import MultiMeasurementInitiator
    from stonesoup.tracker.simple import MultiTargetTracker

    o_lat, o_lon = origin
    o_ecef = geodetic_to_ecef(o_lat, o_lon, 0)
    o_rot = enu_rotation(o_lat, o_lon)
    transition = CombinedLinearGaussianTransitionModel([ConstantAcceleration(30.0)] * 3)
    mapping = (0, 3, 6)
    models = {}
    for s in sensors:
        # Sensor ENU frame expressed in the tracking frame: rotation by Euler angles is awkward
        # for arbitrary frames, so the measurement model works in the sensor frame and we rotate
        # the state through a wrapper below.
        models[s["id"]] = s
    predictor = ExtendedKalmanPredictor(transition)
    updater = ExtendedKalmanUpdater(measurement_model=None)
    hypothesiser = DistanceHypothesiser(predictor, updater, Mahalanobis(), missed_distance=4.0)
    associator = GNNWith2DAssignment(hypothesiser)
    deleter = UpdateTimeDeleter(dt.timedelta(seconds=20))
    prior = GaussianState(StateVector(np.zeros((9, 1))), CovarianceMatrix(np.diag([1e6, 1e6, 1e2] * 3)))
    init_hyp = DistanceHypothesiser(KalmanPredictor(transition), KalmanUpdater(measurement_model=None), Mahalanobis(), missed_distance=4.0)
    initiator = MultiMeasurementInitiator(prior, deleter=UpdateTimeDeleter(dt.timedelta(seconds=8)), data_associator=GNNWith2DAssignment(init_hyp),
                                          updater=KalmanUpdater(measurement_model=None), min_points=4)

    # Detections converted to Cartesian positions in the tracking frame with their own
    # covariance (a converted-measurement filter: Stone Soup's linear updater then applies).
    def scans():
        current, members = None, []
        for rec in lines:
            t = parse_time(rec["time"])
            s = models[rec["sensor"]]
            r, az, el = rec["range_m"], math.radians(rec["az_deg"]), math.radians(rec["el_deg"])
            enu_s = np.array([r * math.cos(el) * math.sin(az), r * math.cos(el) * math.cos(az), r * math.sin(el)])
            rot_s = enu_rotation(s["lat"], s["lon"])
            ecef = geodetic_to_ecef(s["lat"], s["lon"], s["height_m"]) + rot_s.T @ enu_s
            p = o_rot @ (ecef - o_ecef)
            # Covariance: range along the line of sight, angles across it.
            los = enu_s / r
            az_dir = np.array([math.cos(az), -math.sin(az), 0.0])
            el_dir = np.cross(los, az_dir)
            cov_s = (np.outer(los, los) * s["sigma_range_m"] ** 2
                     + np.outer(az_dir, az_dir) * (r * math.radians(s["sigma_az_deg"]) * math.cos(el)) ** 2
                     + np.outer(el_dir, el_dir) * (r * math.radians(s["sigma_el_deg"])) ** 2)
            m = o_rot @ rot_s.T
            cov = m @ cov_s @ m.T + np.eye(3) * 1.0
            model = LinearGaussian(ndim_state=9, mapping=mapping, noise_covar=CovarianceMatrix(cov))
            det = Detection(StateVector(p.reshape(3, 1)), timestamp=t, measurement_model=model)
            if current is not None and t != current:
                yield current, set(members)
                members = []
            current = t
            members.append(det)
        if members:
            yield current, set(members)

    tracker = MultiTargetTracker(initiator=initiator, deleter=deleter, detector=scans(), data_associator=associator, updater=KalmanUpdater(measurement_model=None))
    states = []
    start = time.perf_counter()
    all_tracks = set()
    for t, tracks in tracker:
        all_tracks |= tracks
        for tr in tracks:
            if tr.state.timestamp == t:
                p = tr.state.state_vector[[0, 3, 6], 0].astype(float)
                states.append((t.timestamp(), o_ecef + o_rot.T @ p))
    elapsed = time.perf_counter() - start
    return elapsed, len(all_tracks), states


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--trilat", help="output of trilat missile assess --json --timeline --tracks")
    ap.add_argument("--limit", type=int, default=0, help="use only the first N detections")
    args = ap.parse_args()
    sensors = json.load(open(f"{args.dir}/SENSORS.json"))
    lines = [json.loads(l) for l in open(f"{args.dir}/DETECTIONS.jsonl") if l.strip()]
    if args.limit:
        lines = lines[: args.limit]
    truths = truth_positions(f"{args.dir}/TRUTH.json")
    elapsed, n_tracks, states = run_stonesoup(sensors, lines, (sensors[0]["lat"], sensors[0]["lon"]))
    errs = [nearest_truth_error(truths, t, p) for t, p in states]
    errs = [e for e in errs if math.isfinite(e)]
    rmse = math.sqrt(sum(e * e for e in errs) / len(errs)) if errs else float("nan")
    med = float(np.median(errs)) if errs else float("nan")
    print(f"stonesoup: {len(lines)} detections in {elapsed:.2f} s = {len(lines) / elapsed:.0f} detections/s; "
          f"{n_tracks} tracks; {len(errs)} track states; position RMSE {rmse:.0f} m, median {med:.0f} m")
    if args.trilat:
        errs = []
        for l in open(args.trilat):
            rec = json.loads(l)
            if "track" not in rec:
                continue
            t = rec["track"]
            p = geodetic_to_ecef(t["lat"], t["lon"], t["height_km"] * 1000)
            e = nearest_truth_error(truths, parse_time(t["time"]).timestamp(), p)
            if math.isfinite(e):
                errs.append(e)
        rmse = math.sqrt(sum(e * e for e in errs) / len(errs)) if errs else float("nan")
        print(f"trilat:    {len(errs)} track states (every 5 s); position RMSE {rmse:.0f} m, median {float(np.median(errs)):.0f} m")


if __name__ == "__main__":
    main()
