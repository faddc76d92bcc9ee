"""Hostile input to ``andon simulate --clairvoyant``: a budget that is not a sane amount of work,
and a scenario that is not one; each a clear error naming the option or the field, exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ANDON = str(Path(sys.executable).with_name("andon"))
SCENARIO = {"name": "tiny", "start": "2026-01-05T00:00:00Z", "days": 1, "seed": 1,
            "pools": {"default": 1},
            "sources": [{"name": "feed", "partitions": "daily", "arrival": {"after": "1h"}}],
            "pipelines": [{"name": "p", "inputs": ["feed"], "outputs": ["o"],
                           "duration": {"p50": "5m"}, "deadline": "2h"}],
            "incidents": []}


@pytest.mark.parametrize("budget", ["0", "-1", "nan", "inf", "601", "1e9"])
def test_an_insane_budget_is_refused(tmp_path: Path, budget: str) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps(SCENARIO))
    out = subprocess.run([ANDON, "simulate", str(path), "--clairvoyant", "--budget", budget],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "--budget" in out.stderr


def test_a_scenario_with_a_bad_field_is_named_before_any_solving(tmp_path: Path) -> None:
    bad = {**SCENARIO, "pipelines": [{**SCENARIO["pipelines"][0], "slots": -3}]}
    path = tmp_path / "s.json"
    path.write_text(json.dumps(bad))
    out = subprocess.run([ANDON, "simulate", str(path), "--clairvoyant"],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "pipelines[0].slots" in out.stderr
