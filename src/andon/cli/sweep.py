"""``andon deprecate`` (announce that a data set or pipeline will be deleted after a date),
``andon deprecations`` (where each stands) and ``andon sweep`` (what would be deleted, and with
``--apply`` deleting it: every file recorded as an event first)."""

from __future__ import annotations

import click

from andon.cli.group import WASTE, Env, friendly, main, out_json, table
from andon.model.lifecycle import OBJECT_KINDS


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


@main.command(section=WASTE)
@click.argument("name")
@click.option("--delete-after", "delete_after", required=True, metavar="DATE",
              help="the last day its data is kept, YYYY-MM-DD, at least [sweep] notice_days "
                   "(14) ahead")
@click.option("--reason", required=True, help="why it goes (told to every consumer)")
@click.option("--replacement", default="", help="what to use instead")
@click.option("--kind", type=click.Choice(OBJECT_KINDS),
              help="dataset or pipeline, when NAME is both")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@click.pass_obj
@friendly
def deprecate(env: Env, name: str, delete_after: str, reason: str, replacement: str,
              kind: str | None, as_json: bool) -> None:
    """Deprecate data set or pipeline NAME: its consumers are told now; after DATE it is
    frozen (no new runs) and `andon sweep --apply` deletes its data, unless something read it
    after this notice."""
    done = env.client().deprecate(name, delete_after, reason, replacement, kind)
    if as_json:
        out_json(done)
        return
    told = ", ".join(done.get("readers", []) + done.get("consumers", [])) or "no consumer"
    click.echo(f"deprecated {done['kind']} {done['object']}: deleted after "
               f"{done['delete_after']}; told {told}"
               + ("" if done.get("recorded", True) else " (recorded before)"))


@main.command(section=WASTE)
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@click.pass_obj
@friendly
def deprecations(env: Env, as_json: bool) -> None:
    """Deprecated data sets and pipelines: state (deprecated, frozen, deleted), date, reason."""
    data = env.client().deprecations()
    if as_json:
        out_json(data)
        return
    rows = data["deprecations"]
    if not rows:
        click.echo("nothing is deprecated", err=True)
        return
    table(("KIND", "NAME", "STATE", "DELETE AFTER", "BY", "REASON"),
          [(d["kind"], d["object"], d["state"], d["delete_after"], d["by"] or "-",
            d["reason"][:60]) for d in rows])


@main.command(section=WASTE)
@click.option("--apply", "apply_", is_flag=True,
              help="delete (the default is a dry run that changes nothing)")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@click.option("--scheduled", is_flag=True, hidden=True,
              help="the built-in andon_sweep run: only through the running andon up")
@click.pass_obj
@friendly
def sweep(env: Env, apply_: bool, as_json: bool, scheduled: bool) -> None:
    """What the sweep would delete (a dry run): each file, its size and the rule (retention,
    keep_last, an agreed deprecation), and what is blocked and why. With --apply it deletes
    them, recording each deletion before removing the file. Exit code 1 when something is
    blocked (its owner is told)."""
    client = env.client()
    if scheduled and not client.live:  # never beside a running scheduler on its store
        from andon.model.errors import ConfigError

        raise ConfigError("the scheduled sweep found no running andon up to apply it",
                          hint="it is retried; `andon sweep --apply` runs it by hand")
    data = client.sweep(apply_)
    if as_json:
        out_json(data)
    elif apply_:
        click.echo(f"removed {data['removed']} file(s), freed {_size(data['freed_bytes'])}"
                   + (f"; deleted {', '.join(data['deleted'])}" if data["deleted"] else ""))
    else:
        rows = list(data["deletions"]) + list(data["finish"])
        if rows:
            table(("DATA SET", "PARTITION", "VERSION", "SIZE", "RULE", "LOCATION"),
                  [(r["asset"], r["partition"], str(r["version"]), _size(r["size_bytes"]),
                    r["rule"], r["location"]) for r in rows])
        click.echo(f"{len(rows)} file(s), {_size(data['freed_bytes'])} would be freed"
                   " (dry run: `andon sweep --apply` deletes)")
    if not as_json:
        for r in data["refused"]:
            click.echo(f"refused {r['location']}: {r['reason']}", err=True)
        for b in data["blocked"]:
            click.echo(f"blocked {b['kind']} {b['object']}: {b['reason']}", err=True)
            click.echo(f"  hint: {b['fix']}", err=True)
    if data["blocked"] and any(b["reader"] for b in data["blocked"]):
        raise SystemExit(1)
