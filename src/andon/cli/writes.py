"""The commands that change what andon does: notify, run, backfill, cancel."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from andon.cli.group import RUN, Env, friendly, main


@main.command(section=RUN)
@click.argument("asset")
@click.argument("partition")
@click.option("--id", "event_id", help="your event id, 1-200 characters of A-Z a-z 0-9 . _ : - "
              "(stored as client:ID; the same id again is recorded once; default: derived from "
              "the data, so repeating a notify of the same data is recorded once)")
@click.pass_obj
@friendly
def notify(env: Env, asset: str, partition: str, event_id: str | None) -> None:
    """Announce that PARTITION of source ASSET has arrived."""
    recorded = env.client().notify(asset, partition, event_id)
    click.echo(f"{asset} {partition}: " + ("recorded" if recorded else "already recorded"))


WAIT = click.option("--wait", is_flag=True, help="wait until the runs end: exit 0 only if every "
                    "partition was made, 1 listing those that were not (without a running "
                    "`andon up`, the runs execute here)")
TIMEOUT = click.option("--timeout", type=click.FloatRange(min=0.1), default=None,
                       metavar="SECONDS", help="with --wait, give up after this long (exit 3)")


@main.command("run", section=RUN)
@click.argument("pipeline")
@click.option("--partition", required=True, help="partition key, e.g. 2026-01-05")
@WAIT
@TIMEOUT
@click.pass_obj
@friendly
def run_cmd(env: Env, pipeline: str, partition: str, wait: bool, timeout: float | None) -> None:
    """Queue a manual run of one partition (re-makes it if it exists)."""
    if wait:
        _wait(env, pipeline, partition, None, timeout)
        return
    client = env.client()
    client.run(pipeline, partition)
    click.echo(f"requested {pipeline} {partition}" + ("" if client.live else
               " (no scheduler is running: it starts with the next `andon up`)"))


@main.command(section=RUN)
@click.argument("pipeline")
@click.option("--from", "first", required=True, help="first partition")
@click.option("--to", "last", required=True, help="last partition (inclusive)")
@WAIT
@TIMEOUT
@click.pass_obj
@friendly
def backfill(env: Env, pipeline: str, first: str, last: str, wait: bool,
             timeout: float | None) -> None:
    """Re-make PIPELINE's partitions from --from to --to (consumers follow)."""
    if wait:
        _wait(env, pipeline, first, last, timeout)
        return
    n = env.client().backfill(pipeline, first, last)
    click.echo(f"requested {n} partition(s) of {pipeline}")


@main.command(section=RUN)
@click.argument("run_id")
@click.pass_obj
@friendly
def cancel(env: Env, run_id: str) -> None:
    """Cancel a queued or running run."""
    env.client().cancel(run_id)
    click.echo(f"cancel requested for {run_id}")


def _wait(env: Env, pipeline: str, first: str, last: str | None,
          timeout: float | None) -> None:
    """``--wait`` for a run (``last`` None) or a backfill: over the running ``andon up``'s API,
    else on the store with the runs executing here (``andon.cli.waiting``)."""
    from andon.cli.waiting import live_client, wait_http, wait_offline

    project, settings = env.load()
    client = live_client(project, settings)
    if client is None:
        def build(service: Any) -> list[Any]:
            now = datetime.now(UTC)
            if last is None:
                return [service.run_request(pipeline, first, now, "manual", "cli")]
            return list(service.backfill(pipeline, first, last, now, "cli"))
        wait_offline(project, settings, build, timeout)
        return
    live = client

    def request() -> list[tuple[str, str]]:
        if last is None:
            live.run(pipeline, first)
            return [(pipeline, first)]
        return [(pipeline, k) for k in live.backfill_keys(pipeline, first, last)]
    wait_http(live, request, timeout)
