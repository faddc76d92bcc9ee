"""A run starts from the code version of the graph the engine was given (the definitions'
content hash and the git commit), recorded on its run.started event."""

from __future__ import annotations

from dataclasses import replace

from andon.events import RunStarted
from tests.engine.harness import Line, graph, pipe, rebuilt, source


def test_runs_start_with_the_graph_s_code_version_and_commit() -> None:
    g = replace(graph([source("raw")], [pipe("clean", ["raw"])]),
                code_version="0123456789ab", commit="f" * 40)
    line = Line(g)
    out = line.notify("raw", "2026-01-09")
    started = [e for e in out.events if isinstance(e, RunStarted)]
    assert started
    rebuilt(line)
    assert {(e.code_version, e.commit) for e in started} == {("0123456789ab", "f" * 40)}
