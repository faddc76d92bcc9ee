"""``andon access``: ask for access to a data set, decide requests, list them; ``andon
subscribe`` / ``unsubscribe``: register as a consumer of a data set (or stop)."""

from __future__ import annotations

import click

from andon.cli.group import MODELS, Env, friendly, main, out_json, table


@main.group(section=MODELS)
def access() -> None:
    """Ask for access to a data set and decide the requests (an owner or an operator): an
    approved requester is a registered consumer until its date."""


@access.command("request")
@click.argument("asset")
@click.option("--reason", required=True, help="why you need it (at most 2,000 characters)")
@click.option("--until", "until", metavar="DATE", help="the last day of access, YYYY-MM-DD "
              "(default and most: access_max_days from today)")
@click.option("--answer", "answers", multiple=True, metavar="KEY=VALUE",
              help="an answer to the data set's form (repeat for each field)")
@click.option("--contact", default="", help="an e-mail address or webhook name to tell of "
              "the decision (default: your token's name, when it is one)")
@click.pass_obj
@friendly
def access_request(env: Env, asset: str, reason: str, until: str | None,
                   answers: tuple[str, ...], contact: str) -> None:
    """Ask for access to data set ASSET."""
    given: dict[str, object] = {}
    for item in answers:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--answer")
        given[key.strip()] = value
    found = env.client().access_request(asset, reason, until, given, contact)
    click.echo(f"access request {found['request_id']} for {found['asset']} until "
               f"{found['until']}: {found['status']}")
    click.echo(f"its owner decides with: andon access approve {found['request_id']}", err=True)


@access.command("approve")
@click.argument("request_id")
@click.option("--note", default="", help="a note for the requester")
@click.pass_obj
@friendly
def access_approve(env: Env, request_id: str, note: str) -> None:
    """Approve REQUEST_ID: its requester is a registered consumer until its date."""
    found = env.client().access_decide(request_id, True, note)
    click.echo(f"approved {request_id}: {found['requester']} may use {found['asset']} until "
               f"{found['until']}")


@access.command("reject")
@click.argument("request_id")
@click.option("--reason", required=True, help="why not (the requester is told)")
@click.pass_obj
@friendly
def access_reject(env: Env, request_id: str, reason: str) -> None:
    """Reject REQUEST_ID, saying why."""
    found = env.client().access_decide(request_id, False, reason)
    click.echo(f"rejected {request_id} of {found['requester']}")


@access.command("list")
@click.option("--asset", help="only requests for this data set")
@click.option("--status", type=click.Choice(["requested", "approved", "rejected", "expired"]),
              help="only requests in this state")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@click.pass_obj
@friendly
def access_list(env: Env, asset: str | None, status: str | None, as_json: bool) -> None:
    """List access requests, newest first."""
    data = env.client().access_requests(asset, status)
    if as_json:
        out_json(data)
        return
    table(("REQUEST", "STATUS", "ASSET", "REQUESTER", "UNTIL", "REASON"),
          [(r["request_id"], r["status"], r["asset"], r["requester"], r["until"],
            r["reason"].splitlines()[0][:60] if r["reason"] else "") for r in data])


@access.command("show")
@click.argument("request_id")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@click.pass_obj
@friendly
def access_show(env: Env, request_id: str, as_json: bool) -> None:
    """Show one access request: its answers, its decision, the data set's consumers."""
    r = env.client().access_request_of(request_id)
    if as_json:
        out_json(r)
        return
    click.echo(f"access request {r['request_id']} ({r['status']}): {r['requester']} for "
               f"{r['asset']} until {r['until']}")
    click.echo(f"  reason: {r['reason']}")
    for key, value in r["answers"].items():
        click.echo(f"  {key}: {value}")
    if r["decided_at"]:
        click.echo(f"  decided by {r['decided_by']} at {r['decided_at']}"
                   + (f": {r['decision_note']}" if r["decision_note"] else ""))
    for c in r["consumers"]:
        click.echo(f"  consumer {c['consumer']} until {c['until']}")


@main.command(section=MODELS)
@click.argument("asset")
@click.option("--until", "until", metavar="DATE", help="the last day, YYYY-MM-DD (default and "
              "most: access_max_days from today)")
@click.option("--as", "as_name", help="register this name (an e-mail address or webhook "
              "name) instead of yourself: an operator or an owner")
@click.pass_obj
@friendly
def subscribe(env: Env, asset: str, until: str | None, as_name: str | None) -> None:
    """Register as a consumer of data set ASSET: hear of its cords, deprecations and
    deliveries as its owners do, until the date."""
    done = env.client().subscribe(asset, until, as_name)
    click.echo(f"{done['consumer']} is a consumer of {done['asset']} until {done['until']}")


@main.command(section=MODELS)
@click.argument("asset")
@click.option("--as", "as_name", help="drop this name instead of yourself")
@click.pass_obj
@friendly
def unsubscribe(env: Env, asset: str, as_name: str | None) -> None:
    """Stop being a registered consumer of data set ASSET."""
    done = env.client().unsubscribe(asset, as_name)
    click.echo(f"{done['consumer']} is no longer a consumer of {done['asset']}")
