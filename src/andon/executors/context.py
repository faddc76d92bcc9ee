"""The context a pipeline function receives."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class Outputs(dict[str, Path]):
    """Output paths by name; looking one up creates its folder, so user code can write to
    ``ctx.outputs["x"]`` at once, and outputs never touched cost no file-system work."""

    def __getitem__(self, name: str) -> Path:
        path = super().__getitem__(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path


@dataclass
class Context:
    """``partition``: the key being made. ``inputs[name]``: a Path (or a list of Paths for a
    window or roll-up). ``outputs[name]``: the Path to write. ``log``: a logger whose lines go to
    the run's log. Call ``set_rows(name, n)`` to record an output's row count."""

    run_id: str
    partition: str
    attempt: int
    project_dir: Path
    inputs: dict[str, Any]
    outputs: dict[str, Path]
    log: logging.Logger
    rows: dict[str, int] = field(default_factory=dict)

    def set_rows(self, output: str, n: int) -> None:
        if output not in self.outputs:
            raise KeyError(f"{output!r} is not an output of this pipeline "
                           f"(outputs: {', '.join(self.outputs)})")
        self.rows[output] = int(n)

    def output(self, name: str) -> Path:
        """The output's path, with its folder created."""
        return self.outputs[name]
