"""The ``andon`` group, what its options resolve to, and what every command shares: errors
turned into ``Error: ...`` with a hint and an exit code, JSON and table output."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from andon import __version__
from andon.cli.text import json_text, quiet_broken_pipe, table_lines

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
            sys.exit(quiet_broken_pipe())
        except Exception as exc:
            ctx = click.get_current_context(silent=True)
            debug = bool(ctx and ctx.obj and ctx.obj.debug)
            _fail(exc, debug)

    return wrapper  # type: ignore[return-value]


def out_json(data: Any) -> None:
    """``data`` as JSON on stdout (``andon.cli.text.json_text``)."""
    click.echo(json_text(data, sys.stdout.isatty()))


def table(header: tuple[str, ...], rows: Sequence[Sequence[str]],
          notes: Sequence[str | None] = ()) -> None:
    """A table on stdout (``andon.cli.text.table_lines``)."""
    for line in table_lines(header, rows, notes):
        click.echo(line)


# the sections of `andon --help`, in order: each command names its own where it is registered
# (``@main.command(section=RUN)``); tests/fromcode/test_help.py checks every command has one
RUN, INSPECT, CORD, PLAN = "Run", "Inspect", "Andon cord", "Plan and simulate"
MODELS, WASTE, ADMIN = "Models and data", "Waste and clean-up", "Admin"
SECTIONS = (RUN, INSPECT, CORD, PLAN, MODELS, WASTE, ADMIN)


class SectionedGroup(click.Group):
    """A group whose help lists its commands by purpose (``SECTIONS``) rather than A-Z."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sections: dict[str, str] = {}

    def command(self, *args: Any, section: str = "", **kwargs: Any) -> Any:
        """``click.Group.command`` that records the command's ``section``."""
        return self._sectioned(super().command(*args, **kwargs), section)

    def group(self, *args: Any, section: str = "", **kwargs: Any) -> Any:
        """``click.Group.group`` that records the group's ``section``."""
        return self._sectioned(super().group(*args, **kwargs), section)

    def _sectioned(self, decorator: Callable[[Any], click.Command], section: str
                   ) -> Callable[[Any], click.Command]:
        if section and section not in SECTIONS:
            raise ValueError(f"unknown help section {section!r}; one of {SECTIONS}")

        def register(fn: Any) -> click.Command:
            cmd = decorator(fn)
            if section and cmd.name:
                self.sections[cmd.name] = section
            return cmd
        return register

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows: dict[str, list[tuple[str, str]]] = {}
        limit = formatter.width - 6 - max((len(n) for n in self.list_commands(ctx)), default=0)
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is None or cmd.hidden:
                continue
            rows.setdefault(self.sections.get(name, "Other"), []).append(
                (name, cmd.get_short_help_str(limit)))
        for section in (*SECTIONS, "Other"):
            if rows.get(section):
                with formatter.section(section):
                    formatter.write_dl(rows[section])


@click.group(cls=SectionedGroup)
@click.option("--project", "-p", metavar="DIR", help="project folder (default: the nearest "
              "folder with an andon.toml at or above the current one)")
@click.option("--database-url", help="store URL [env ANDON_DATABASE_URL]")
@click.option("--debug", is_flag=True, help="show tracebacks")
@click.version_option(__version__)
@click.pass_context
def main(ctx: click.Context, project: str | None, database_url: str | None, debug: bool) -> None:
    """andon: a lean orchestrator. Runs start the moment their data lands."""
    ctx.obj = Env(project, debug, {"database_url": database_url})
