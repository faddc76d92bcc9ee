"""A real `andon up` (runner, store, uvicorn on a free port) in a background thread, and tokens."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime

import httpx
import pytest

from andon.live.clock import Clock
from andon.model.tokens import digest, new_token
from andon.project.load import load_project
from andon.project.settings import resolve
from andon.serve.up import Line, open_line, serve

PIPELINES = """
import andon

andon.source("raw", location="data/raw/{partition}.csv")

@andon.pipeline(inputs=["raw"], outputs=["clean"])
def clean(ctx):
    ctx.output("clean").write_text("ok\\n")
"""


@contextmanager
def running(root, env: Mapping[str, str] | None = None,  # type: ignore[no-untyped-def]
            executor: str = "inprocess", clock: Clock | None = None) -> Iterator[Line]:
    """Serve the project at ``root`` until the block ends, with settings resolved as the CLI
    does (flags, then ``env``, then andon.toml); ``executor="local"`` runs real processes;
    ``clock`` (a FakeClock) sets the scheduler's and the pages' time."""
    project = load_project(root)
    settings = resolve(root, {"executor": executor, "port": 0}, env or {},
                       project.settings_table)
    line = open_line(project, settings, clock)
    ready = threading.Event()
    thread = threading.Thread(target=serve, args=(line, lambda _line: ready.set()), daemon=True)
    thread.start()
    assert ready.wait(10), "the server did not come up"
    try:
        yield line
    finally:
        line.stop_event.set()
        thread.join(10)
        assert not thread.is_alive(), "the server did not stop"


@pytest.fixture
def line(make_project) -> Iterator[Line]:  # type: ignore[no-untyped-def]
    with running(make_project(PIPELINES)) as line:
        yield line


@pytest.fixture
def client(line: Line) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=line.url, timeout=10) as c:
        yield c


def make_token(line: Line, role: str) -> str:
    value = new_token()
    line.store.add_token(digest(value), role, role, datetime.now(UTC))
    return value


def auth_header(line: Line, role: str = "operator") -> dict[str, str]:
    """The Authorization header of a new token of ``role``."""
    return {"Authorization": f"Bearer {make_token(line, role)}"}


TokenFactory = Callable[[str], str]
