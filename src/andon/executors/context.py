"""The context a pipeline function receives."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from andon.model.metrics import checked_metric, checked_param


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
    the run's log. Call ``set_rows(name, n)`` to record an output's row count, ``log_metric``
    and ``log_params`` to record what a training run measured and was given (the run's
    ``run.succeeded`` event carries them; a model's version shows them). For an
    ``andon.serving(MODEL)`` input, ``inputs[MODEL]`` is the Path of the serving version's
    artifact, ``models[MODEL]`` that version's number, and ``candidates[MODEL]`` (version, Path)
    a newer version never promoted (held back), to score in shadow; empty without one."""

    run_id: str
    partition: str
    attempt: int
    project_dir: Path
    inputs: dict[str, Any]
    outputs: dict[str, Path]
    log: logging.Logger
    rows: dict[str, int] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    models: dict[str, int] = field(default_factory=dict)
    candidates: dict[str, tuple[int, Path]] = field(default_factory=dict)

    def log_metric(self, name: str, value: float) -> None:
        """Record metric ``name`` (an identifier) = ``value`` (a finite number; logging it
        again replaces it). A NaN, an infinite value or no number fails the run, naming the
        metric (``andon.model.metrics`` has the limits)."""
        others = len(self.metrics) - (name in self.metrics)
        key, number = checked_metric(name, value, others)
        self.metrics[key] = number

    def log_params(self, params: Mapping[str, Any] | None = None, **more: Any) -> None:
        """Record parameters, as ``log_params(alpha=0.1)`` or ``log_params({"alpha": 0.1})``:
        each value kept as text (a string as it is, anything else as its ``repr``)."""
        for name, value in {**(params or {}), **more}.items():
            others = len(self.params) - (name in self.params)
            key, text = checked_param(name, value, others)
            self.params[key] = text

    def set_rows(self, output: str, n: int) -> None:
        if output not in self.outputs:
            raise KeyError(f"{output!r} is not an output of this pipeline "
                           f"(outputs: {', '.join(self.outputs)})")
        self.rows[output] = int(n)

    def output(self, name: str) -> Path:
        """The output's path, with its folder created."""
        return self.outputs[name]
