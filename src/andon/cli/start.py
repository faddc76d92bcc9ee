"""The commands that make and start a project: init, validate, up."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from andon.cli.group import ADMIN, RUN, Env, friendly, main, out_json
from andon.model.dispatch import DEFAULT_POLICY, POLICY_NAMES
from andon.project.settings import EXECUTORS


@main.command(section=ADMIN)
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--example", type=click.Choice(["retail", "minimal"]), default="minimal",
              show_default=True, help="which example project to write")
@friendly
def init(directory: str, example: str) -> None:
    """Create a project in DIRECTORY (andon.toml and a definitions module)."""
    from andon.examples import write_example

    path = write_example(Path(directory), example)
    click.echo(f"created {example} project in {path}", err=True)
    click.echo(f"next: cd {directory} && andon validate && andon up", err=True)


@main.command(section=ADMIN)
@click.option("--json", "as_json", is_flag=True, help="print the graph as JSON")
@click.pass_obj
@friendly
def validate(env: Env, as_json: bool) -> None:
    """Load the definitions and catalog.toml and report every problem (exit 2 if any)."""
    from andon.manual.rules import load_rules
    from andon.registry.declared import load_declared

    project, _settings = env.load()
    g = project.graph
    declared = load_declared(project.root, g)  # catalog.toml, if any: refused here if wrong
    load_rules(project.config, project.root, g.pipelines)  # [manual] rules: refused if wrong
    if as_json:
        out_json({"project": project.name, "pipelines": list(g.order),
                  "sources": sorted(a.name for a in g.assets.values() if a.source),
                  "pools": {p.name: p.capacity for p in g.pools.values()},
                  "catalog": len(declared)})
        return
    sources = sum(1 for a in g.assets.values() if a.source)
    listed = f", {len(declared)} catalog entries" if declared else ""
    click.echo(f"ok: {len(g.pipelines)} pipelines, {sources} sources, {len(g.pools)} pools"
               f"{listed} in {project.root / 'andon.toml'}")


@main.command(section=RUN)
@click.option("--host", help="address to bind [env ANDON_HOST; default 127.0.0.1]")
@click.option("--port", type=int, help="port [env ANDON_PORT; default 8765; 0 = any free]")
@click.option("--executor", type=click.Choice(EXECUTORS),
              help="local, inprocess or dask (andon[dask]) [env ANDON_EXECUTOR]")
@click.option("--policy", type=click.Choice(POLICY_NAMES),
              help=f"dispatch policy [env ANDON_POLICY; default {DEFAULT_POLICY}]")
@click.pass_obj
@friendly
def up(env: Env, host: str | None, port: int | None, executor: str | None,
       policy: str | None) -> None:
    """Run the scheduler and the HTTP server until Ctrl-C. On PostgreSQL several may run on one
    database: one leads, the others stand by (serve the API, forward writes to the leader) and
    take over when it dies (docs/deploy.md)."""
    from andon.live.logs import setup_logging
    from andon.serve.team import is_team
    from andon.serve.team import up as team_up
    from andon.serve.up import Line, ensure_local_token, open_line, serve
    from andon.store.leader import Lease

    project, settings = env.load(host=host, port=port, executor=executor, policy=policy)
    setup_logging(settings.log_format)

    def ready(line: Line) -> None:
        click.echo(f"andon is up: {line.url}  (project {project.name}, "
                   f"{len(project.graph.pipelines)} pipelines)", err=True)

    def standing_by(url: str, lease: Lease | None) -> None:
        leader = f"{lease.holder}, token {lease.token}" if lease else "not known yet"
        click.echo(f"andon stands by: {url}  (project {project.name}; leader: {leader})",
                   err=True)

    if is_team(settings):
        if not team_up(project, settings, ready, standing_by):
            click.echo("andon stopped: another `andon up` took the lead", err=True)
            sys.exit(1)
        return
    line = open_line(project, settings)
    ensure_local_token(settings, line.store)
    serve(line, ready)

