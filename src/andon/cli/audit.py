"""``andon audit``: the waste andon finds in its own log (issue 14), with the evidence, the
owner, a suggested action and an estimated cost; as a table, ``--json`` or ``--markdown``
(what a scheduled audit pipeline writes to a file)."""

from __future__ import annotations

import click

from andon.cli.group import WASTE, Env, friendly, main, out_json, table


@main.command("audit", section=WASTE)
@click.option("--json", "as_json", is_flag=True, help="print JSON: {\"findings\": [...]}")
@click.option("--markdown", is_flag=True, help="print a Markdown report")
@click.option("--since", metavar="DATE", help="judge the log from DATE (YYYY-MM-DD, or an ISO "
              "time) instead of the [audit] windows")
@click.pass_obj
@friendly
def audit(env: Env, as_json: bool, markdown: bool, since: str | None) -> None:
    """Find the waste: unused data, dead pipelines, start-up delay, batches that should stream,
    duplicate data, data deluge, noisy alerts, fossil model and data versions, idle capacity,
    and the declared backups never drilled and cross-region reads, from andon's own log.
    Thresholds and cost rates: [audit] in andon.toml."""
    from andon.audit.views import audit_markdown
    from andon.cli.manual import _plain

    if as_json and markdown:
        raise click.UsageError("give --json or --markdown, not both")
    data = env.client().audit(since)
    if as_json:
        out_json(data)
        return
    if markdown:
        click.echo(audit_markdown(data), nl=False)
        return
    found = data["findings"]
    if not found:
        click.echo("no waste found", err=True)
        return
    table(("KIND", "OBJECT", "OWNER", "COST", "EVIDENCE"),
          [(f["kind"], _plain(f["object"]), _plain(f["owner"] or "-"), f"{f['cost']:.2f}",
            _plain(f["evidence"])) for f in found])
    click.echo(f"{len(found)} finding{'s' * (len(found) != 1)}, estimated "
               f"{data['total_cost']:.2f} {data['currency']} a month; the suggested actions: "
               "andon audit --markdown", err=True)
