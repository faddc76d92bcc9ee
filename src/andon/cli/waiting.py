"""``--wait`` for ``andon run`` and ``andon backfill``: exit 0 only once every partition asked
for has been made, 1 with the failed ones listed.

With a running ``andon up`` the wait follows its event stream (``/api/v1/events/stream``): each
run event of a pipeline asked for is a cue to read those runs' state again, so nothing polls and
a run that ended before the stream was open is still seen. Without one, the request is recorded
on the project's store and executed by the same line ``andon up`` opens, until it settles
(``andon.serve.materialize.run_requests``): a partition whose inputs are missing then never runs
and is listed as such.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import click

from andon.model.errors import EXIT_FAILED, AndonError

if TYPE_CHECKING:
    from andon.cli.http import HttpClient
    from andon.live.service import Service
    from andon.project.load import Project
    from andon.project.settings import Settings

Target = tuple[str, str]  # (pipeline, partition)
ACTIVE = ("queued", "running")
PAGE = 1000  # the API's largest page of runs


class NotMade(AndonError):
    """A partition asked for with ``--wait`` was not made (its run failed, was cancelled or
    never ran)."""

    exit_code = EXIT_FAILED


class GaveUp(AndonError):
    """``--timeout`` passed before the runs asked for ended."""

    exit_code = 3


def live_client(project: Project, settings: Settings) -> HttpClient | None:
    """The project's running ``andon up``'s client, or None (``andon.cli.client.open_client``)."""
    from andon.cli.client import open_client

    client = open_client(project, settings)
    return client if client.live else None  # type: ignore[return-value]


def report(outcomes: Sequence[tuple[Target, str, str]]) -> None:
    """Print each (target, status, note) and raise NotMade listing those not succeeded."""
    bad = []
    for (pipeline, key), status, note in outcomes:
        click.echo(f"{pipeline} {key}: {status}" + (f" ({note})" if note else ""))
        if status != "succeeded":
            bad.append(f"{pipeline} {key}: {status}" + (f" ({note})" if note else ""))
    if bad:
        raise NotMade(f"{len(bad)} of {len(outcomes)} partition(s) were not made: "
                      + "; ".join(bad[:20]) + (" ..." if len(bad) > 20 else ""),
                      hint="read a run's log with `andon logs RUN_ID` (`andon runs --status "
                           "failed` lists them)")


def wait_offline(project: Project, settings: Settings,
                 build: Callable[[Service], Sequence[Any]], timeout: float | None) -> None:
    """Record and execute the requests ``build`` makes, with no scheduler running."""
    from andon.serve.materialize import run_requests

    with contextlib.redirect_stdout(sys.stderr):  # stdout is the outcome's: in-process runs print
        result = run_requests(project, settings, build, timeout)
    finals = {(r.pipeline, r.partition): r for r in result.final}
    asked = list(dict.fromkeys(result.asked))
    report([(t, finals[t].status if t in finals else "never ran",
             _note(finals[t].error_type, finals[t].error_message, finals[t].run_id)
             if t in finals else "an input is missing or a cord holds it") for t in asked])


def wait_http(client: HttpClient, request: Callable[[], Sequence[Target]],
              timeout: float | None) -> None:
    """Make the request on the running ``andon up`` and wait for its runs over the event
    stream; then ``report``."""
    newest = client.runs(None, None, None, 1)
    since = int(newest[0]["seq"]) if newest else 0
    targets = list(dict.fromkeys(request()))
    before = {r["run_id"] for p in {p for p, _ in targets}
              for s in ACTIVE for r in client.runs(p, s, None, PAGE)}
    deadline = None if timeout is None else time.monotonic() + timeout
    done = _settled(client, targets, since, before)
    # heartbeats come every 15 s: a minute of silence means the server is gone; with --timeout,
    # the socket gives up when it passes
    wait = 60.0 if timeout is None else min(60.0, timeout)
    try:
        for message in (client.events(str(since), wait) if done is None else ()):
            if deadline is not None and time.monotonic() > deadline:
                break
            if not _cue(message, {p for p, _ in targets}):
                continue
            done = _settled(client, targets, since, before)
            if done is not None:
                break
    except TimeoutError:
        if deadline is None:
            raise AndonError("the running andon up stopped answering",
                             hint="look at its log; the runs may go on") from None
    if done is None:
        raise GaveUp("the runs asked for did not end within --timeout",
                     hint="they go on: follow them with `andon runs`")
    report(done)


def _cue(message: dict[str, str], pipelines: set[str]) -> bool:
    """Whether a stream message may have changed a target's state."""
    if message.get("event") == "reset":  # too far behind: look at everything again
        return True
    if message.get("event") != "message":
        return False
    try:
        data = json.loads(message.get("data", "{}"))
    except ValueError:
        return False
    return str(data.get("type", "")).startswith(("run.", "cord.")) and (
        data.get("pipeline") in pipelines or "pipeline" not in data)


def _settled(client: HttpClient, targets: Sequence[Target], since: int, before: set[str]
             ) -> list[tuple[Target, str, str]] | None:
    """Each target's outcome once all have ended, else None. A target's run is its newest run
    first recorded after ``since``, or one active before (the request joined a queued run)."""
    newest: dict[Target, dict[str, Any]] = {}
    for pipeline in {p for p, _ in targets}:
        for found in client.runs(pipeline, None, None, PAGE):  # newest first
            newest.setdefault((pipeline, found["partition"]), found)
    out = []
    for target in targets:
        row = newest.get(target)
        if row is None:  # older than the page: ask for it alone
            rows = client.runs(target[0], None, target[1], 1)
            row = rows[0] if rows else None
        if row is None or row["status"] in ACTIVE:
            return None
        if int(row["seq"]) <= since and row["run_id"] not in before:
            return None  # its run is not queued yet (inputs missing, or a cord holds it)
        out.append((target, str(row["status"]),
                    _note(row.get("error_type", ""), row.get("error_message", ""),
                          row["run_id"])))
    return out


def _note(error_type: str, message: str, run_id: str) -> str:
    if not error_type:
        return run_id
    return f"{run_id}: {error_type}: {message}"[:300]
