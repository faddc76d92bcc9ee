"""Drift from profiles (issue 13): what profiling costs a run, how fast a comparison is, and how
well the alarm finds known shifts.

(a) **Profiling cost.** ``--rows`` x ``--columns`` float64 (normal) columns profiled with
``andon.drift.profile.profile`` against a reference's edges (the in-run path), pinned to one
core with numpy's thread pools at one thread; median of ``--repeats``: seconds and cells per
second. For information, the share of a pipeline that generates the columns and dumps them as a
raw ``.npy`` (``numpy.save`` + fsync, the cheapest write there is). The judged share is that
of a real run writing the partition as CSV: (d).

(b) **Drift from profiles.** ``andon.drift.measures.drift`` of one partition's profile against
its reference's, ``--columns`` numeric columns (samples of 5,000 each side, KS p-values, BH):
median and p95 over ``--drift-repeats`` after a warm-up; loading the partition's profile from
its JSON form first, for information.

(d) and (e), through andon's real run path and server: ``drift_inrun``.

(c) **Detection.** A generated benchmark: a reference of ``--ref-rows`` rows, 15 numeric
(normal) and 5 categorical columns; ``--partitions`` partitions of 2,000 to 50,000 rows, each
with 3 columns shifted (a numeric column's mean or spread, a categorical column's shares mixed
towards another distribution), each shift sized for a *true* PSI drawn log-uniformly from 0.01
to 2 (true: computed from the distributions themselves on the reference profile's bins). A
column *alarms* when its band is red, or amber and significant after Benjamini-Hochberg
(``ColumnDrift.alarm``). Judged: recall on shifts with true PSI >= 0.25, false alarms on
unshifted columns. The same cells judged by what a user would pick instead, in the same run:
KS (numeric) / chi-square (categorical) on the raw data at p < 0.05, without a cap or a
correction; and the red band alone, BH significance alone, for information.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # one core: before numpy is imported

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from benchlib import Result, figure, percentile, summary_stats  # noqa: E402
from drift_inrun import heat_page, in_run  # noqa: E402
from scipy import special, stats  # noqa: E402

from andon.drift.codec import dumps, loads  # noqa: E402
from andon.drift.limits import PSI_RED  # noqa: E402
from andon.drift.measures import drift, psi  # noqa: E402
from andon.drift.profile import profile  # noqa: E402

PROFILE_RATE_MIN = 10e6  # cells per second per core
SHARE_MAX = 0.05
DRIFT_MAX_S = 0.050
RECALL_MIN = 0.95
FALSE_ALARM_MAX = 0.02
CATEGORIES = ["a", "b", "c", "d", "e"]
CAT_P = np.array([0.40, 0.25, 0.15, 0.12, 0.08])


def lower(name: str, value: float, target: float, note: str) -> dict[str, Any]:
    return {**figure(name, value * 100, "%"), "target": target * 100, "pass": value >= target,
            "bound": "lower", "note": note}


def upper(name: str, value: float, target: float, note: str) -> dict[str, Any]:
    return {**figure(name, value * 100, "%"), "target": target * 100, "pass": value <= target,
            "note": note}


# -- (a) profiling cost ----------------------------------------------------------------------

def profiling(rows: int, columns: int, repeats: int, tmp: Path, result: Result) -> None:
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    block = rng.normal(size=(columns, rows))
    generate_s = time.perf_counter() - t0
    data = {f"f{i}": block[i] for i in range(columns)}
    t0 = time.perf_counter()
    ref = profile(data)
    reference_s = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        profile(data, reference=ref)
        times.append(time.perf_counter() - t0)
    prof_s = statistics.median(times)
    cells = rows * columns

    npy = tmp / "partition.npy"
    t0 = time.perf_counter()
    with npy.open("wb") as fh:
        np.save(fh, block)
        fh.flush()
        os.fsync(fh.fileno())
    npy_s = time.perf_counter() - t0
    npy.unlink()
    share_npy = prof_s / (generate_s + npy_s + prof_s)
    fig = figure(f"profiling {rows:,} rows x {columns} float64 columns, one core (against the "
                 "reference's edges, median)", prof_s, "s", 5.0)
    rate = cells / prof_s
    result.add(fig, {**figure("profiling rate, one core", rate / 1e6, "M cells/s"),
                     "target": PROFILE_RATE_MIN / 1e6, "pass": rate >= PROFILE_RATE_MIN,
                     "bound": "lower"},
               figure("profiling share of a pipeline that dumps the partition as .npy "
                      "(np.save + fsync)", share_npy * 100, "%",
                      note="for information: a raw binary dump is the cheapest write there is, "
                           "and profiling costs more than it"))
    result.details["profiling"] = {
        "rows": rows, "columns": columns, "cells": cells, "profile_s": [round(t, 4) for t in times],
        "reference_profile_s (own decile edges)": round(reference_s, 4),
        "generate_s": round(generate_s, 3), "write_npy_s": round(npy_s, 3),
        "profile_json_bytes": len(dumps(ref)),
        "cpu_affinity": sorted(os.sched_getaffinity(0))}
    print(f"(a) profile {prof_s:.3f} s ({rate / 1e6:.0f} M cells/s); npy {npy_s:.2f} s -> share "
          f"{share_npy:.1%}")


# -- (b) drift from profiles -----------------------------------------------------------------

def comparing(columns: int, repeats: int, result: Result) -> None:
    rng = np.random.default_rng(1)
    ref = profile({f"f{i}": rng.normal(size=100_000) for i in range(columns)})
    part = profile({f"f{i}": rng.normal(0.02 * (i % 5), 1, 50_000) for i in range(columns)},
                   reference=ref)
    text = dumps(part)
    drift(part, ref)  # warm-up: scipy's import
    times, load_times = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        drift(part, ref)
        times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        drift(loads(text), ref)
        load_times.append(time.perf_counter() - t0)
    p50, p95 = statistics.median(times), percentile(times, 95)
    result.add(figure(f"drift of one partition against its reference from profiles, {columns} "
                      "columns (median)", p50, "s", DRIFT_MAX_S),
               figure(f"drift from profiles, {columns} columns (p95)", p95, "s", DRIFT_MAX_S),
               figure(f"the same after loading the partition's profile from JSON "
                      f"({len(text) / 1e6:.1f} MB), median", statistics.median(load_times), "s",
                      note="for information"))
    result.details["drift"] = {"columns": columns, "seconds": summary_stats(times),
                               "with_load_seconds": summary_stats(load_times),
                               "profile_json_bytes": len(text)}
    print(f"(b) drift p50 {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms")


# -- (c) detection ---------------------------------------------------------------------------

def true_psi_numeric(edges: tuple[float, ...], mu: float, sigma: float) -> float:
    e = np.asarray(edges)
    p = np.diff(np.concatenate([[0.0], special.ndtr(e), [1.0]]))
    q = np.diff(np.concatenate([[0.0], special.ndtr((e - mu) / sigma), [1.0]]))
    return psi(p.tolist(), q.tolist())


def cat_shares(t: float) -> np.ndarray:
    return np.asarray((1 - t) * CAT_P + t * CAT_P[::-1])


def solve(fn: Any, target: float, lo: float, hi: float) -> float:
    """The x in [lo, hi] where the increasing ``fn`` reaches ``target`` (hi when it never does)."""
    if fn(hi) <= target:
        return hi
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if fn(mid) < target else (lo, mid)
    return (lo + hi) / 2


def detection(ref_rows: int, partitions: int, result: Result) -> None:
    rng = np.random.default_rng(2)
    numeric = [f"n{i}" for i in range(15)]
    categorical = [f"c{i}" for i in range(5)]
    names = numeric + categorical

    def draw(n: int, shifts: dict[str, tuple[str, float]]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for name in numeric:
            kind, x = shifts.get(name, ("none", 0.0))
            mu, sigma = (x, 1.0) if kind == "mean" else (0.0, x) if kind == "spread" else (0.0, 1.0)
            out[name] = rng.normal(mu, sigma, n)
        for name in categorical:
            t = shifts.get(name, ("mix", 0.0))[1]
            out[name] = rng.choice(CATEGORIES, n, p=cat_shares(t))
        return out

    raw_ref = draw(ref_rows, {})
    ref = profile(raw_ref)
    cells: list[dict[str, Any]] = []
    for k in range(partitions):
        n = int(rng.choice([2_000, 5_000, 20_000, 50_000]))
        shifts: dict[str, tuple[str, float]] = {}
        true: dict[str, float] = {}
        for name in rng.choice(names, 3, replace=False).tolist():
            target = float(np.exp(rng.uniform(np.log(0.01), np.log(2.0))))
            if name in categorical:
                t = solve(lambda t: psi(CAT_P.tolist(), cat_shares(t).tolist()), target, 0, 1)
                shifts[name], true[name] = ("mix", t), psi(CAT_P.tolist(), cat_shares(t).tolist())
            else:
                edges = ref.columns[name].edges
                if rng.random() < 0.5:
                    x = solve(lambda m, e=edges: true_psi_numeric(e, m, 1.0), target, 0, 10)
                    shifts[name], true[name] = ("mean", x), true_psi_numeric(edges, x, 1.0)
                else:
                    x = solve(lambda s, e=edges: true_psi_numeric(e, 0.0, s), target, 1, 20)
                    shifts[name], true[name] = ("spread", x), true_psi_numeric(edges, 0.0, x)
        raw = draw(n, shifts)
        report = drift(profile(raw, reference=ref, seed=k), ref)
        for col in report.columns:
            if col.kind == "numeric":
                naive_p = stats.ks_2samp(raw_ref[col.column], raw[col.column],
                                         method="asymp").pvalue
            else:
                table = [[int((raw_ref[col.column] == c).sum()) for c in CATEGORIES],
                         [int((raw[col.column] == c).sum()) for c in CATEGORIES]]
                naive_p = stats.chi2_contingency(np.asarray(table), correction=False).pvalue
            cells.append({"partition": k, "rows": n, "column": col.column,
                          "shift": shifts.get(col.column, ("none", 0.0))[0],
                          "true_psi": round(true.get(col.column, 0.0), 5),
                          "psi": round(col.psi, 5), "band": col.band, "p": col.p_value,
                          "significant": col.significant, "alarm": col.alarm,
                          "naive": bool(naive_p < 0.05)})

    def rate(rule: str, subset: list[dict[str, Any]]) -> float:
        def fires(c: dict[str, Any]) -> bool:
            return {"alarm": c["alarm"], "naive": c["naive"], "red": c["band"] == "red",
                    "bh": c["significant"]}[rule]
        return sum(fires(c) for c in subset) / len(subset) if subset else float("nan")

    big = [c for c in cells if c["shift"] != "none" and c["true_psi"] >= PSI_RED]
    mid = [c for c in cells if c["shift"] != "none" and 0.1 <= c["true_psi"] < PSI_RED]
    small = [c for c in cells if c["shift"] != "none" and c["true_psi"] < 0.1]
    calm = [c for c in cells if c["shift"] == "none"]
    alarm = "red, or amber and significant after Benjamini-Hochberg (FDR 5 %) across the 20 columns"
    result.add(lower(f"recall on shifts with true PSI >= 0.25 ({len(big)} shifted cells)",
                     rate("alarm", big), RECALL_MIN, f"alarm = {alarm}"),
               upper(f"false alarms on unshifted columns ({len(calm)} cells)",
                     rate("alarm", calm), FALSE_ALARM_MAX, f"alarm = {alarm}"),
               figure("naive per-column KS / chi-square at p < 0.05 on the raw data, no cap, no "
                      "correction: false alarms on unshifted columns", rate("naive", calm) * 100,
                      "%", note="for comparison: what a user would pick"),
               figure("naive: recall on shifts with true PSI >= 0.25", rate("naive", big) * 100,
                      "%", note="for comparison"),
               figure("naive: alarms on negligible shifts (true PSI < 0.1)",
                      rate("naive", small) * 100, "%",
                      note=f"for comparison; andon's alarm: {rate('alarm', small) * 100:.1f} %"))
    result.details["detection"] = {
        "alarm": alarm, "reference_rows": ref_rows, "partitions": partitions,
        "columns": {"numeric": len(numeric), "categorical": len(categorical)},
        "shifted_per_partition": 3, "true_psi": "log-uniform in [0.01, 2] (a categorical mix "
        "reaches at most " f"{psi(CAT_P.tolist(), CAT_P[::-1].tolist()):.2f})",
        "rates": {rule: {"true_psi>=0.25": rate(rule, big), "0.1<=true_psi<0.25": rate(rule, mid),
                         "true_psi<0.1": rate(rule, small), "unshifted": rate(rule, calm)}
                  for rule in ("alarm", "red", "bh", "naive")},
        "counts": {"true_psi>=0.25": len(big), "0.1<=true_psi<0.25": len(mid),
                   "true_psi<0.1": len(small), "unshifted": len(calm)},
        "missed": [c for c in big if not c["alarm"]],
        "false_alarms": [c for c in calm if c["alarm"]]}
    print(f"(c) recall {rate('alarm', big):.1%} of {len(big)}, false alarms "
          f"{rate('alarm', calm):.2%} of {len(calm)}; naive false alarms {rate('naive', calm):.1%}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--columns", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--drift-repeats", type=int, default=50)
    parser.add_argument("--ref-rows", type=int, default=100_000)
    parser.add_argument("--partitions", type=int, default=100)
    parser.add_argument("--run-rows", type=int, default=1_000_000,
                        help="rows of the partition the real run writes (d)")
    parser.add_argument("--heat-partitions", type=int, default=365)
    parser.add_argument("--heat-rows", type=int, default=1000,
                        help="rows of each partition of the heat map's project (e)")
    parser.add_argument("--page-repeats", type=int, default=20)
    parser.add_argument("--cold-restarts", type=int, default=3,
                        help="servers started anew for the cold heat map page (e)")
    args = parser.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    result = Result("drift", "drift from profiles (issue 13): profiling cost on one core and its "
                    "share of a pipeline, drift of a partition from profiles, detection of "
                    "known shifts against a naive alternative")
    with tempfile.TemporaryDirectory(prefix="andon-bench-drift-") as tmp:
        profiling(args.rows, args.columns, args.repeats, Path(tmp), result)
        heat_page(args.heat_partitions, args.columns, args.heat_rows, args.page_repeats,
                  args.cold_restarts, Path(tmp), result)
        in_run(args.run_rows, args.columns, Path(tmp), result, SHARE_MAX)
    comparing(args.columns, args.drift_repeats, result)
    detection(args.ref_rows, args.partitions, result)
    result.details["numpy"], result.details["scipy"] = np.__version__, _scipy_version()
    print(f"-> {result.write()}")
    return 0


def _scipy_version() -> str:
    import scipy

    return str(scipy.__version__)


if __name__ == "__main__":
    sys.exit(main())
