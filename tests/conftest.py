"""Shared fixtures: real project folders on disk (real SQLite files, real modules)."""

from __future__ import annotations

import compileall
import os
import textwrap
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.pg import PostgresServer, PostgresUnavailable


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


ProjectFactory = Callable[..., Path]


def pytest_configure(config: pytest.Config) -> None:
    """Compile andon's modules to bytecode once, before any test. The suite starts hundreds of
    ``andon`` processes (the CLI, ``andon up``, each run of the local executor); with
    PYTHONDONTWRITEBYTECODE set, as on the machines the suite runs on, each of them would compile
    the package from source again, a quarter of its start-up. Python reads a cached .pyc even then
    (and ignores one whose source changed since). Once per session: the controller of a
    pytest-xdist run does it before its workers start."""
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        import andon

        compileall.compile_dir(Path(andon.__file__).parent, quiet=2)


@pytest.fixture
def make_project(tmp_path: Path) -> ProjectFactory:
    """Write ``andon.toml`` and ``pipelines.py`` (dedented) into a fresh folder; return it."""
    counter = [0]

    def make(pipelines: str, pools: dict[str, int] | None = None, extra: str = "",
             start: str = "2026-01-01", end: str | None = None) -> Path:
        """``end``: the TOML of ``[project] end``'s value as written (e.g. ``'"2026-01-11"'``)."""
        counter[0] += 1
        root = tmp_path / f"project{counter[0]}"
        root.mkdir()
        pool_lines = "\n".join(f"{k} = {v}" for k, v in (pools or {"default": 4}).items())
        end_line = "" if end is None else f"end = {end}\n"
        (root / "andon.toml").write_text(
            f'[project]\nname = "test"\ndefinitions = ["pipelines.py"]\nstart = "{start}"\n'
            f"{end_line}\n[pools]\n{pool_lines}\n{extra}\n")
        (root / "pipelines.py").write_text(textwrap.dedent(pipelines))
        return root

    return make


# -- a real PostgreSQL (tests/pg.py): one server per session, a fresh namespace per test -----------

@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server started for this test session and stopped at its end. Fails (never
    skips) when PostgreSQL is not installed: `make test` installs it."""
    try:
        server = PostgresServer().start()
    except PostgresUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """URL (``postgresql+psycopg://``) of the session server's maintenance database. Shared by all
    tests: store nothing there; use ``postgres_database`` for an isolated database."""
    return postgres_server.url()


@pytest.fixture
def postgres_database(postgres_server: PostgresServer) -> str:
    """URL of a new, empty PostgreSQL namespace for this test alone: its own schema, the only one
    on the URL's search path (a fresh schema costs a millisecond, a fresh database 0.1-0.3 s; use
    ``postgres_server.create_database()`` for a test that needs a whole database)."""
    return postgres_server.create_schema()
