"""``andon token``: API tokens, on the store whether or not ``andon up`` is running."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from andon.cli.group import ADMIN, Env, friendly, main, out_json, table

if TYPE_CHECKING:
    from andon.cli.local import LocalClient


def _store(env: Env) -> LocalClient:
    """The project's store: tokens are managed there, never through a running server."""
    from andon.cli.local import LocalClient

    return LocalClient(*env.load())


@main.group(section=ADMIN)
def token() -> None:
    """Create, list and revoke API tokens (on the store: with or without `andon up`)."""


@token.command("create")
@click.option("--role", type=click.Choice(["viewer", "operator", "admin"]), default="operator",
              show_default=True)
@click.option("--name", default="", help="a label for the token")
@click.pass_obj
@friendly
def token_create(env: Env, role: str, name: str) -> None:
    """Create a token and print it once (only its SHA-256 is stored)."""
    made = _store(env).token_create(role, name)
    click.echo(made["token"])
    click.echo(f"token {made['id']} ({role}): shown only now; revoke it with "
               f"`andon token revoke {made['id']}`", err=True)


@token.command("list")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@click.pass_obj
@friendly
def token_list(env: Env, as_json: bool) -> None:
    """List every token, oldest first, by id (never the token or its hash)."""
    data = _store(env).tokens()
    if as_json:
        out_json(data)
        return
    table(("ID", "NAME", "ROLE", "CREATED", "REVOKED"),
          [(t["id"], t["name"] or "-", t["role"], t["created_at"][:19],
            (t["revoked_at"] or "-")[:19]) for t in data])


@token.command("revoke")
@click.argument("token_ref", metavar="ID_OR_TOKEN")
@click.pass_obj
@friendly
def token_revoke(env: Env, token_ref: str) -> None:
    """Revoke a token, named by its id or by the token itself (it fails on its very next
    request)."""
    from andon.model.tokens import PREFIX, digest, token_id

    client = _store(env)
    ident = token_id(digest(token_ref)) if token_ref.startswith(PREFIX) else token_ref
    click.echo(f"revoked {client.token_revoke(ident)['id']}")
