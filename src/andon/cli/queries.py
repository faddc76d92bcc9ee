"""The commands that show what andon knows: status, plan, runs, logs."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

import click

from andon.cli.client import Client
from andon.cli.group import INSPECT, PLAN, Env, friendly, main, out_json, table
from andon.cli.text import status_lines


@main.command(section=INSPECT)
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@click.pass_obj
@friendly
def status(env: Env, as_json: bool) -> None:
    """Show every pipeline's partitions by state and every source's arrivals."""
    data = env.client().status()
    if as_json:
        out_json(data)
        return
    lines, code = status_lines(data)
    for line in lines:
        click.echo(line)
    if code:
        sys.exit(code)


@main.command(section=PLAN)
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@click.pass_obj
@friendly
def plan(env: Env, as_json: bool) -> None:
    """Show every upcoming deliverable: predicted start and finish, due time, slack, at risk."""
    from andon.cli.client import open_client

    project, settings = env.load()
    data = open_client(project, settings).plan()
    for problem in data.get("problems", ()):
        click.echo(f"warning: the event log is inconsistent: event {problem['position']} "
                   f"({problem['event']} {problem['event_id']!r}): {problem['message']}", err=True)
    if as_json:
        out_json(data)
        return
    from andon.model.durations import format_duration

    def when(text: str | None) -> str:
        return "-" if not text else text[:16].replace("T", " ")

    rows = []
    for d in data["deliverables"]:
        slack = d["slack_seconds"]
        risk = "AT RISK" if d["at_risk"] else "late" if slack is not None and slack < 0 else "ok"
        rows.append((d["pipeline"], d["partition"], d["state"], when(d["predicted_start"]),
                     when(d["predicted_finish"]), when(d["due"]),
                     "-" if slack is None else format_duration(slack), risk, d["reason"]))
    table(("PIPELINE", "PARTITION", "STATE", "START", "FINISH", "DUE", "SLACK", "RISK", "REASON"),
          rows)
    if not rows:
        ended = project.end is not None and datetime.now(UTC).date() > project.end
        click.echo(f"no upcoming deliverables (the project ended on {project.end}: [project] end "
                   "in andon.toml)" if ended else
                   "no upcoming deliverables (give a pipeline a deadline to plan for it)", err=True)


@main.command(section=INSPECT)
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@click.option("--pipeline", help="only this pipeline")
@click.option("--status", "state", help="only runs in this state")
@click.option("--partition", help="only this partition")
@click.option("--limit", default=50, show_default=True)
@click.pass_obj
@friendly
def runs(env: Env, as_json: bool, pipeline: str | None, state: str | None,
         partition: str | None, limit: int) -> None:
    """List runs, newest first."""
    data = env.client().runs(pipeline, state, partition, limit)
    if as_json:
        out_json(data)
        return
    table(("RUN", "STATUS", "ATTEMPT", "REASON", "STARTED", "WORK"),
          [(r["run_id"], r["status"], str(r["attempt"]), r["reason"], r["started_at"] or "-",
            f"{r['work_seconds']:.2f}s" if r["work_seconds"] is not None else "-") for r in data],
          [_hint_line(r) for r in data])


def _hint_line(run: dict[str, object]) -> str | None:
    """What the manual knows of a failed run's problem, as ``andon runs`` and ``andon logs``
    show it (None: not failed, or nothing known)."""
    hint = run.get("hint")
    if run.get("status") != "failed" or not isinstance(hint, dict) or not hint.get("text"):
        return None
    from andon.registry.declared import CONTROL

    return CONTROL.sub("?", f"manual {hint.get('entry', '')}: {hint['text']}")


@main.command(section=INSPECT)
@click.argument("run_id")
@click.option("--follow", "-f", is_flag=True, help="while the run executes, print what it "
              "writes as it writes it, until it ends (exit 1 if it did not succeed)")
@click.pass_obj
@friendly
def logs(env: Env, run_id: str, follow: bool) -> None:
    """Print the captured output of a run (first, on stderr, what the operations manual knows
    of its failure)."""
    from andon.model.errors import AndonError

    client = env.client()
    try:
        said = _hint_line(client.run_of(run_id))
    except AndonError:  # no such run (over HTTP any refusal): the log's own look-up says so
        said = None
    if said:
        click.echo(said, err=True)
    if follow and client.live:
        _follow_log(client, run_id)
        return
    if follow:  # no `andon up`: nothing runs, so nothing is added to the log
        click.echo("no `andon up` is running for this project: the log as it is", err=True)
    offset = 0
    while True:  # page by page (a page is at most 1 MB): a long log is never held whole
        text, after = client.log_page(run_id, offset)
        click.echo(text, nl=False)
        if after <= offset:
            return
        offset = after


def _follow_log(client: Client, run_id: str) -> None:
    """Print a run's log from its server-sent-event stream as it comes; when the stream ends
    before the run did (the server restarted), resume after the last byte received."""
    from andon.model.errors import AndonError

    offset, tries = "", 0
    while tries < 3:
        tries += 1
        for msg in client.log_stream(run_id, offset):
            if msg["event"] == "end":
                status = json.loads(msg["data"]).get("status", "")
                if status != "succeeded":
                    click.echo(f"the run {status}", err=True)
                    sys.exit(1)
                return
            if msg["event"] == "message":
                click.echo(json.loads(msg["data"])["text"], nl=False)
                sys.stdout.flush()
                offset, tries = msg.get("id", offset), 0
    raise AndonError("the server ended the log stream before the run ended",
                     hint="run the same command again once `andon up` is back")
