"""Hostile ``andon demo --break`` names: only a pipeline of the example, by its identifier;
anything else is refused naming the fix before the demo writes a file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from andon.model.errors import ConfigError
from andon.serve.demo import broken_source

ANDON = str(Path(sys.executable).with_name("andon"))


@pytest.mark.parametrize("name", [
    "", "trian", "train(ctx):\n    import os", "train\n", ".*", "train|score", "x" * 10_000,
    "../pipelines", "train; rm -rf /", "tr\x00ain", "\u0074rain\u200b",
])
def test_a_name_that_is_not_a_pipeline_of_the_example_is_refused(name: str) -> None:
    with pytest.raises(ConfigError) as info:
        broken_source([name])
    assert "the demo has no pipeline of that name" in str(info.value)
    assert len(str(info.value)) < 400  # a 10,000-character name is not echoed whole
    assert "train" in (info.value.hint or "")


def test_breaking_a_pipeline_only_adds_the_raise_to_that_function() -> None:
    text = broken_source(["train", "score"])
    assert text is not None
    assert text.count("raise RuntimeError(\"broken on purpose") == 2
    assert "def train(ctx):\n    raise RuntimeError(\"broken on purpose by `andon demo --break " \
           "train`\")\n" in text
    assert broken_source([]) is None


def test_the_cli_refuses_before_writing_anything(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    proc = subprocess.run([ANDON, "demo", str(target), "--port", "0", "--break", "x" * 5000],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "the demo has no pipeline of that name" in proc.stderr
    assert not target.exists()
