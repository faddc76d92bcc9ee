"""The commands that change what andon does: notify, run, backfill, cancel."""

from __future__ import annotations

import click

from andon.cli.group import Env, friendly, main


@main.command()
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


@main.command("run")
@click.argument("pipeline")
@click.option("--partition", required=True, help="partition key, e.g. 2026-01-05")
@click.pass_obj
@friendly
def run_cmd(env: Env, pipeline: str, partition: str) -> None:
    """Queue a manual run of one partition (re-makes it if it exists)."""
    client = env.client()
    client.run(pipeline, partition)
    click.echo(f"requested {pipeline} {partition}" + ("" if client.live else
               " (no scheduler is running: it starts with the next `andon up`)"))


@main.command()
@click.argument("pipeline")
@click.option("--from", "first", required=True, help="first partition")
@click.option("--to", "last", required=True, help="last partition (inclusive)")
@click.pass_obj
@friendly
def backfill(env: Env, pipeline: str, first: str, last: str) -> None:
    """Re-make PIPELINE's partitions from --from to --to (consumers follow)."""
    n = env.client().backfill(pipeline, first, last)
    click.echo(f"requested {n} partition(s) of {pipeline}")


@main.command()
@click.argument("run_id")
@click.pass_obj
@friendly
def cancel(env: Env, run_id: str) -> None:
    """Cancel a queued or running run."""
    env.client().cancel(run_id)
    click.echo(f"cancel requested for {run_id}")
