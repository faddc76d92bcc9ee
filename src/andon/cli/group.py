"""The ``andon`` group, what its options resolve to, and what every command shares: errors
turned into ``Error: ...`` with a hint and an exit code, JSON and table output."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from andon.cli.client import Client
    from andon.project.load import Project
    from andon.project.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])


class Env:
    """What the group options resolved: the project folder and the command-line settings."""

    def __init__(self, project: str | None, debug: bool, flags: dict[str, Any]) -> None:
        self.project_arg = project
        self.debug = debug
        self.flags = flags

    def root(self) -> Path:
        from andon.project.load import find_root

        return find_root(Path(self.project_arg or os.getcwd()))

    def load(self, **flags: Any) -> tuple[Project, Settings]:
        """(project, settings) resolved flag > environment > andon.toml > default."""
        from andon.project.load import load_project
        from andon.project.settings import resolve

        project = load_project(self.root())
        settings = resolve(project.root, {**self.flags, **flags}, os.environ,
                           project.settings_table)
        return project, settings

    def client(self) -> Client:
        """The project's client: its running ``andon up``, else its store."""
        from andon.cli.client import open_client

        return open_client(*self.load())


def _fail(exc: Exception, debug: bool) -> None:
    from andon.model.errors import AndonError

    if debug:
        import traceback

        traceback.print_exc()
    if isinstance(exc, AndonError):
        click.echo(f"Error: {exc.where + ': ' if exc.where else ''}{exc.message}", err=True)
        if exc.hint:
            click.echo(f"  hint: {exc.hint}", err=True)
        sys.exit(exc.exit_code)
    click.echo(f"Error: {type(exc).__name__}: {exc}", err=True)
    click.echo("  hint: run again with --debug for the traceback", err=True)
    sys.exit(1)


def friendly(fn: F) -> F:
    """Turn AndonError into ``Error: ...`` plus a hint and its exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except BrokenPipeError:  # the reader went away (`andon ... | head`): stop quietly
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # so the exit's flush does not fail again
            sys.exit(141)  # 128 + SIGPIPE, as a command killed by the signal reports
        except Exception as exc:
            ctx = click.get_current_context(silent=True)
            debug = bool(ctx and ctx.obj and ctx.obj.debug)
            _fail(exc, debug)

    return wrapper  # type: ignore[return-value]


def out_json(data: Any) -> None:
    """``data`` as JSON on stdout: indented for a person at a terminal, on one line for a
    program reading a pipe (the C encoder: ten times faster on a year of the manual)."""
    if sys.stdout.isatty():
        click.echo(json.dumps(data, indent=2, default=str))
    else:
        click.echo(json.dumps(data, separators=(",", ":"), default=str))


def table(header: tuple[str, ...], rows: Sequence[Sequence[str]],
          notes: Sequence[str | None] = ()) -> None:
    """Columns as wide as their widest cell, two spaces apart, no trailing blanks; ``notes[i]``
    (when given and not empty) on its own indented line under row ``i``."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip())
    for i, row in enumerate(rows):
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        if i < len(notes) and notes[i]:
            click.echo(f"  {notes[i]}")


@click.group()
@click.option("--project", "-p", metavar="DIR", help="project folder (default: the nearest "
              "folder with an andon.toml at or above the current one)")
@click.option("--database-url", help="store URL [env ANDON_DATABASE_URL]")
@click.option("--debug", is_flag=True, help="show tracebacks")
@click.version_option(package_name="andon")
@click.pass_context
def main(ctx: click.Context, project: str | None, database_url: str | None, debug: bool) -> None:
    """andon: a lean orchestrator. Runs start the moment their data lands."""
    ctx.obj = Env(project, debug, {"database_url": database_url})
