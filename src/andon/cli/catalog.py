"""The commands of the registry: search."""

from __future__ import annotations

import click

from andon.cli.group import Env, friendly, main, out_json, table
from andon.registry.entries import KINDS
from andon.registry.search import DEFAULT_LIMIT


@main.command()
@click.argument("query")
@click.option("--kind", type=click.Choice(KINDS), help="only entries of this kind")
@click.option("--owner", help="only entries of this owner (exact, any case)")
@click.option("--limit", default=DEFAULT_LIMIT, show_default=True, help="at most this many")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@click.pass_obj
@friendly
def search(env: Env, query: str, kind: str | None, owner: str | None, limit: int,
           as_json: bool) -> None:
    """Search the catalog: data sets, pipelines, models, services and libraries."""
    found = env.client().search(query, kind, owner, limit)
    if as_json:
        out_json(found)
    else:
        table(("KIND", "NAME", "OWNER", "DESCRIPTION"),
              [(r["kind"], r["name"], r["owner"] or "-", _line(r["description"]))
               for r in found["results"]])
        if found["suggestion"]:
            click.echo(f"nothing matches {query!r}; did you mean {found['suggestion']!r}?",
                       err=True)
        elif not found["results"]:
            click.echo(f"nothing matches {query!r}", err=True)


def _line(text: str, most: int = 60) -> str:
    """The first line of ``text``, at most ``most`` characters."""
    first = text.strip().split("\n", 1)[0]
    return first if len(first) <= most else first[:most - 1] + "…"
