"""``andon materialize``: the one-shot command for CI jobs and cron-less scripts."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from andon.cli.group import RUN, Env, friendly, main, out_json

if TYPE_CHECKING:
    from andon.serve.tally import Ended, Tally

BAR = 30  # characters of the progress bar
MAX_SOURCES = 1000  # --source options in one call


@main.command(section=RUN)
@click.option("--partition", "partitions", multiple=True, metavar="P",
              help="a partition key to make (repeat for several)")
@click.option("--pipeline", "pipelines", multiple=True, metavar="X",
              help="a pipeline that must make each partition (repeat; default: whatever the "
                   "sources' data triggers)")
@click.option("--source", "sources", multiple=True, metavar="ASSET=FILE",
              help="copy FILE to source ASSET's location before announcing it (ASSET:P=FILE for "
                   "one partition; default: the files already at the locations)")
@click.option("--executor", type=click.Choice(["local", "inprocess"]), default=None,
              help="how runs execute (default: the project's executor setting)")
@click.option("--store", default=":memory:", metavar="PATH",
              help="a SQLite file to keep the store and run logs in (default: a temporary one)")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=None, metavar="SECONDS",
              help="give up after this long (exit 3)")
@click.option("--json", "as_json", is_flag=True, help="print the runs and their statuses as JSON")
@click.pass_obj
@friendly
def materialize(env: Env, partitions: tuple[str, ...], pipelines: tuple[str, ...],
                sources: tuple[str, ...], executor: str | None, store: str,
                timeout: float | None, as_json: bool) -> None:
    """Make partitions now and exit: 0 if every run succeeded, 1 listing the failures."""
    from andon.serve.materialize import materialize as make

    project, settings = env.load()
    shown = _Shown(as_json)
    # stdout is the result's: what in-process runs print goes to stderr with the progress
    with contextlib.redirect_stdout(sys.stderr):
        result = make(project, partitions, list(pipelines) or None, _sources(sources),
                      executor or settings.executor, store, raise_on_failure=False,
                      timeout=timeout, progress=shown)
    shown.finish()
    if as_json:
        out_json(result.to_json())
    else:
        made = sum(r.ok for r in result.final)
        click.echo(f"{made} partition(s) made, {len(result.failed)} failed, "
                   f"{len(result.waiting)} never ran")
    if not result.ok:
        from andon.serve.outcome import MaterializeError

        raise MaterializeError(result)


def _sources(options: Sequence[str]) -> dict[str, Any]:
    """``--source`` values as ``materialize``'s ``sources``."""
    from andon.model.errors import BadRequest

    if len(options) > MAX_SOURCES:
        raise BadRequest(f"{len(options)} --source options are more than {MAX_SOURCES}",
                         hint="materialise in several calls")
    out: dict[str, Any] = {}
    for option in options:
        name, sep, path = option.partition("=")
        if not sep or not name or not path:
            raise BadRequest(f"--source {option!r} is not ASSET=FILE or ASSET:PARTITION=FILE",
                             hint="for example --source raw_orders=tests/orders.csv")
        asset, _, key = name.partition(":")
        if key:
            if not isinstance(out.setdefault(asset, {}), dict):
                raise BadRequest(f"--source {asset} is given for every partition and for one",
                                 hint="give one form per data set")
            out[asset][key] = path
        elif asset in out:
            raise BadRequest(f"--source {asset} is given twice", hint="give it once")
        else:
            out[asset] = path
    return out


class _Shown:
    """What the command shows as runs end: a progress bar on a terminal (runs done / queued,
    failures, the time left the planner expects), plain lines otherwise (on stderr: stdout is
    the result's)."""

    def __init__(self, as_json: bool) -> None:
        self.bar = sys.stderr.isatty()
        self.quiet = as_json and not self.bar
        self.drawn = False

    def __call__(self, tally: Tally, ended: Sequence[Ended]) -> None:
        if self.quiet:
            return
        if not self.bar:
            first = tally.done - len(ended)  # ended in one turn: numbered in order
            for n, event in enumerate(ended, first + 1):
                status = event.name.removeprefix("run.")
                click.echo(f"{event.pipeline} {event.partition} attempt {event.attempt}: "
                           f"{status} ({n}/{tally.total})", err=True)
            return
        filled = BAR * tally.done // max(tally.total, 1)
        eta = tally.eta()
        left = "" if eta is None else f"  ETA {_duration(eta)}"
        click.echo(f"\r[{'#' * filled}{'.' * (BAR - filled)}] {tally.done}/{tally.total} runs"
                   f"  {tally.failed} failed{left}   ", nl=False, err=True)
        self.drawn = True

    def finish(self) -> None:
        if self.drawn:
            click.echo("", err=True)


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f}s"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"
