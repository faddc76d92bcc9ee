"""The commands of the registry: search, and declaring entries of the catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from andon.cli.group import INSPECT, MODELS, Env, friendly, main, out_json, table
from andon.model.lifecycle import LIFECYCLES
from andon.registry.entries import DECLARED_KINDS, KINDS
from andon.registry.search import DEFAULT_LIMIT


@main.command(section=INSPECT)
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


@main.group("catalog", section=MODELS)
def catalog_group() -> None:
    """Declare entries of the catalog (models, services, libraries, external data sets) without
    editing catalog.toml, and remove them."""


@catalog_group.command("declare")
@click.option("--kind", type=click.Choice(DECLARED_KINDS), help="what it is")
@click.option("--name", help="its name: an identifier (letters, digits, _ . -)")
@click.option("--owner", help="who answers for it, e.g. ml@example.com")
@click.option("--description", help="what it is, in a sentence or a few")
@click.option("--tag", "tags", multiple=True, help="a word to find it by (repeat for more)")
@click.option("--team", help="the owner's team")
@click.option("--link", "links", multiple=True, metavar="LABEL=URL",
              help="a link: code, docs, a dashboard (repeat for more)")
@click.option("--lifecycle", type=click.Choice(LIFECYCLES), help="active (default), beta or "
              "deprecated (with --date)")
@click.option("--date", "when", help="the date the lifecycle takes effect, YYYY-MM-DD "
              "(needed for deprecated)")
@click.option("--access", help="how to get access: a link or a note")
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False),
              help="a TOML file with the fields of one catalog.toml entry (the options above "
                   "override them)")
@click.pass_obj
@friendly
def catalog_declare(env: Env, kind: str | None, name: str | None, owner: str | None,
                    description: str | None, tags: tuple[str, ...], team: str | None,
                    links: tuple[str, ...], lifecycle: str | None, when: str | None,
                    access: str | None, path: str | None) -> None:
    """Declare an entry of the catalog (again: replace it), checked as a catalog.toml entry is.
    It is found by `andon search` at once."""
    table: dict[str, Any] = _table_file(Path(path)) if path else {}
    given = dict(kind=kind, name=name, owner=owner, description=description, team=team,
                 access=access, tags=list(tags) or None)
    table.update({k: v for k, v in given.items() if v is not None})
    if links:
        table["links"] = dict(_link(text) for text in links)
    if lifecycle or when:
        state = lifecycle or table.get("lifecycle", "active")
        table["lifecycle"] = {"state": state, "date": when} if when else state
    done = env.client().catalog_declare(table)
    click.echo(f"declared {done['kind']} {done['name']} ({done['url']})")


@catalog_group.command("remove")
@click.argument("kind", type=click.Choice(DECLARED_KINDS))
@click.argument("name")
@click.pass_obj
@friendly
def catalog_remove(env: Env, kind: str, name: str) -> None:
    """Take KIND NAME, declared with `andon catalog declare` (or the API), out of the catalog."""
    env.client().catalog_remove(kind, name)
    click.echo(f"removed {kind} {name}")


def _table_file(path: Path) -> dict[str, Any]:
    """The table of a TOML file: one entry's fields (``[[entries]]`` with one table, too)."""
    import tomllib

    from andon.model.errors import ConfigError

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}", where=str(path),
                          hint="write the entry's fields as key = value lines") from None
    entries = data.get("entries")
    if isinstance(entries, list) and len(entries) == 1 and set(data) == {"entries"}:
        data = entries[0]
    for key, value in list(data.items()):  # TOML dates travel as ISO text, as over the API
        if isinstance(value, dict):
            data[key] = {k: v.isoformat() if hasattr(v, "isoformat") else v
                         for k, v in value.items()}
    return data


def _link(text: str) -> tuple[str, str]:
    label, sep, url = text.partition("=")
    if not sep or not label.strip() or not url.strip():
        raise click.BadParameter(f"{text!r} is not LABEL=URL", param_hint="--link")
    return label.strip(), url.strip()
