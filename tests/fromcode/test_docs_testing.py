"""docs/testing.md is true: its Python blocks, written out in order in a fresh folder (a block
whose first line is ``# PATH`` becomes that file; the others run as they are), and the tests
they make pass with pytest."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"```python\n(.*?)```", re.S)
SHELL = re.compile(r"^(andon [^\n]*)$", re.M)


def test_the_worked_example_runs(tmp_path: Path) -> None:
    text = (ROOT / "docs/testing.md").read_text()
    blocks = BLOCK.findall(text)
    assert len(blocks) >= 5
    for block in blocks:
        first = block.splitlines()[0]
        if first.startswith("# tests/"):
            path = tmp_path / first[2:].strip()
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(block)
        else:
            subprocess.run([sys.executable, "-c", block], cwd=tmp_path, check=True, timeout=60)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"\b4 passed\b", proc.stdout), proc.stdout
    # the CI job's command, on the data file it names
    (tmp_path / "tests/data").mkdir()
    (tmp_path / "tests/data/orders.csv").write_text("id,amount\n1,10\n")
    (command,) = [line for line in SHELL.findall(text) if line.startswith("andon materialize")]
    andon = str(Path(sys.executable).with_name("andon"))
    job = subprocess.run([andon, "--project", "shop", *command.split()[1:]], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert job.returncode == 0, job.stderr
    assert json.loads(job.stdout)["ok"] is True
