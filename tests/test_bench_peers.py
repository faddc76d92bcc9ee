"""``make bench-peers``'s harness (benchmarks/bench_peers.py) with andon alone: no peer installed,
every figure run as a whole process in small sizes, the results written as JSON and Markdown."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def test_the_peers_harness_runs_andon_alone(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / "bench_peers.py"), "--tools", "andon", "--quick",
         "--chain", "12", "--procs", "4", "--out", str(tmp_path), "--cache", str(tmp_path / "c")],
        cwd=BENCHMARKS, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads((tmp_path / "peers.json").read_text())
    keys = [f["key"] for f in data["figures"]]
    assert keys == ["help", "chain_12_inprocess", "fanout_4_procs_pool2", "fanout_4_procs_pool8",
                    "chain_4_procs_pool2", "chain_4_procs_pool8"]
    for key in keys:
        cell = data["results"][key]["andon"]
        assert len(cell["samples"]) == 1 and cell["median_s"] > 0, (key, cell)
        assert data["ratios"][key] == {"fastest_peer": None, "fastest_peer_over_andon": None}
    assert not (tmp_path / "c").exists()  # andon alone installs nothing
    table = (tmp_path / "peers.md").read_text()
    assert "| 4 tasks, a process each, chain, pool of 8 |" in table


def test_keep_carries_the_peers_not_measured_now_with_their_date(tmp_path: Path) -> None:
    old = {"date": "2026-01-02T03:04:05Z", "versions": {"luigi": "3.8.1"},
           "results": {"help": {"andon": {"samples": [9.0], "median_s": 9.0},
                                "luigi": {"samples": [1.0, 2.0], "median_s": 1.5}}}}
    (tmp_path / "peers.json").write_text(json.dumps(old))
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / "bench_peers.py"), "--tools", "andon", "--rounds", "1",
         "--only", "help", "--keep", "--out", str(tmp_path), "--cache", str(tmp_path / "c")],
        cwd=BENCHMARKS, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads((tmp_path / "peers.json").read_text())
    row = data["results"]["help"]
    assert row["andon"]["median_s"] != 9.0  # measured again
    assert row["luigi"] == {"samples": [1.0, 2.0], "median_s": 1.5,
                            "kept_from": "2026-01-02T03:04:05Z"}
    assert data["tools"] == ["andon", "luigi"] and data["versions"]["luigi"] == "3.8.1"
    assert data["ratios"]["help"]["fastest_peer"] == "luigi"
    table = (tmp_path / "peers.md").read_text()
    assert "| 1.50 s * |" in table and "the run of 2026-01-02T03:04:05Z" in table
