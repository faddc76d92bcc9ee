"""Wiring of ``andon up``: one scheduler per project."""

from __future__ import annotations

import pytest

from andon.model.errors import ConfigError
from andon.project.load import load_project
from andon.project.settings import resolve
from andon.serve.up import open_line

PIPELINES = """
import andon

andon.source("raw")

@andon.pipeline(inputs=["raw"], outputs=["clean"])
def clean(ctx):
    ctx.output("clean").write_text("ok\\n")
"""


def test_a_second_scheduler_on_the_same_project_is_refused(make_project) -> None:
    root = make_project(PIPELINES)
    project = load_project(root)
    settings = resolve(root, {"executor": "inprocess"}, {}, {})
    first = open_line(project, settings)
    try:
        with pytest.raises(ConfigError, match="already running") as err:
            open_line(project, settings)
        assert "stop it first" in err.value.hint
    finally:
        first.close()
    second = open_line(project, settings)  # the lock went with the first scheduler
    second.close()
