"""``andon cord``: pull, resolve and list andon cords, and restore what they quarantined."""

from __future__ import annotations

import click

from andon.cli.group import CORD, Env, friendly, main, out_json, table


@main.group(section=CORD)
def cord() -> None:
    """Pull, resolve and list andon cords (halt everything downstream of a bad partition), and
    restore outputs they quarantined."""


@cord.command("pull")
@click.argument("asset")
@click.argument("partition")
@click.option("--reason", required=True, help="what is wrong with the data")
@click.pass_obj
@friendly
def cord_pull(env: Env, asset: str, partition: str, reason: str) -> None:
    """Flag PARTITION of ASSET as bad: everything downstream of it halts at once."""
    client = env.client()
    cord_id = client.cord_pull(asset, partition, reason)
    click.echo(f"pulled cord {cord_id}" + ("" if client.live else
               " (no scheduler is running: what it halts is recorded now; runs start again "
               "with the next `andon up`)"))
    click.echo(f"resolve it with: andon cord resolve {cord_id} --note \"...\"", err=True)


@cord.command("resolve")
@click.argument("cord_id")
@click.option("--note", required=True, help="what was wrong and how it was fixed")
@click.option("--manual-fix", is_flag=True, help="the data was fixed by hand: accept it as it "
              "is now instead of re-making it")
@click.pass_obj
@friendly
def cord_resolve(env: Env, cord_id: str, note: str, manual_fix: bool) -> None:
    """Resolve CORD_ID: re-make the bad partition, then everything it affected, in order."""
    env.client().cord_resolve(cord_id, note, manual_fix)
    click.echo(f"resolved cord {cord_id}: " + ("accepted as fixed" if manual_fix else
               "re-making the partition") + "; what it halted re-runs once that succeeds")


@cord.command("restore")
@click.argument("cord_id")
@click.argument("asset")
@click.argument("partition")
@click.option("--version", "version", type=click.IntRange(min=1), help="which version of the "
              "suspect output (default: its newest quarantined one)")
@click.pass_obj
@friendly
def cord_restore(env: Env, cord_id: str, asset: str, partition: str, version: int | None) -> None:
    """Move PARTITION of ASSET, quarantined by CORD_ID, back to where its run wrote it."""
    version, location = env.client().cord_restore(cord_id, asset, partition, version)
    click.echo(f"restored {asset} {partition} v{version} to {location}")


@cord.command("list")
@click.option("--all", "everything", is_flag=True, help="resolved cords too")
@click.option("--json", "as_json", is_flag=True, help="print JSON (with each incident's timeline)")
@click.pass_obj
@friendly
def cord_list(env: Env, everything: bool, as_json: bool) -> None:
    """List open andon cords (every cord with --all), newest first."""
    data = env.client().cords(everything)
    if as_json:
        out_json(data)
        return
    table(("CORD", "STATUS", "ASSET", "PARTITION", "HALTED", "PULLED", "BY", "REASON"),
          [(c["cord_id"], c["status"], c["asset"], c["partition"], str(c["halted"]),
            c["pulled_at"][:19], c["pulled_by"] or "-", c["reason"]) for c in data])


@cord.command("show")
@click.argument("cord_id")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@click.pass_obj
@friendly
def cord_show(env: Env, cord_id: str, as_json: bool) -> None:
    """Show one cord as an incident: its timeline, what it halts, its suspect outputs."""
    data = env.client().cord(cord_id)
    if as_json:
        out_json(data)
        return
    click.echo(f"cord {data['cord_id']} ({data['status']}): {data['asset']} {data['partition']} "
               f"v{data['version']}: {data['reason']}")
    for step in data["timeline"]:
        click.echo(f"  {step['step']:<13}{step['at']}")
    for name in ("time_to_detect_seconds", "time_to_recover_seconds"):
        if data[name] is not None:
            click.echo(f"  {name.replace('_seconds', '').replace('_', ' ')}: {data[name]:.0f}s")
    for h in data["halted"]:
        click.echo(f"  halts {h['pipeline']} {h['partition']}")
    for o in data["outputs"]:
        click.echo(f"  suspect {o['asset']} {o['partition']} v{o['version']}: {o['state']}")
