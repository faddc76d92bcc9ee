"""`andon ... | head`: a reader that goes away ends the command quietly, not with an error."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.cli.test_commands import ANDON


def test_a_reader_gone_before_the_output_stops_the_command_quietly(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    subprocess.run([ANDON, "init", str(root)], check=True, capture_output=True, timeout=60)
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the command writes a byte
    try:
        proc = subprocess.run([ANDON, "--project", str(root), "validate", "--json"],
                              stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(write_end)
    assert proc.stderr == ""
    assert proc.returncode == 141
