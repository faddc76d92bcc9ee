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
