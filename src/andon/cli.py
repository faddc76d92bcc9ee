"""The command line. Data goes to stdout, logs to stderr; exit codes: 0 ok, 1 a run or check
failed, 2 usage or configuration error. Heavy modules are imported inside the commands so that
``andon --help`` starts fast."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC
from pathlib import Path
from typing import Any, TypeVar

import click

from andon.model.dispatch import DEFAULT_POLICY, POLICY_NAMES, one_of
from andon.sim.policies import ALL_POLICIES

F = TypeVar("F", bound=Callable[..., Any])


class Env:
    """What the group options resolved: the project folder and the command-line settings."""

    def __init__(self, project: str | None, debug: bool, flags: dict[str, Any]) -> None:
        self.project_arg = project
        self.debug = debug
        self.flags = flags

    def root(self) -> Path:
        from andon.project import find_root

        return find_root(Path(self.project_arg or os.getcwd()))

    def load(self, **flags: Any) -> tuple[Any, Any]:
        """(project, settings) resolved flag > environment > andon.toml > default."""
        from andon.project import load_project
        from andon.settings import resolve

        project = load_project(self.root())
        settings = resolve(project.root, {**self.flags, **flags}, os.environ,
                           project.settings_table)
        return project, settings


def _fail(exc: Exception, debug: bool) -> None:
    from andon.model.errors import AndonError

    if debug:
        import traceback

        traceback.print_exc()
    if isinstance(exc, AndonError):
        click.echo(f"Error: {exc.where + ': ' if exc.where else ''}{exc.message}", err=True)
        if exc.hint:
            click.echo(f"  hint: {exc.hint}", err=True)
        sys.exit(exc.exit_code)
    click.echo(f"Error: {type(exc).__name__}: {exc}", err=True)
    click.echo("  hint: run again with --debug for the traceback", err=True)
    sys.exit(1)


def friendly(fn: F) -> F:
    """Turn AndonError into ``Error: ...`` plus a hint and its exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except Exception as exc:
            ctx = click.get_current_context(silent=True)
            debug = bool(ctx and ctx.obj and ctx.obj.debug)
            _fail(exc, debug)

    return wrapper  # type: ignore[return-value]


def out_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


@click.group()
@click.option("--project", "-p", metavar="DIR", help="project folder (default: the nearest "
              "folder with an andon.toml at or above the current one)")
@click.option("--database-url", help="store URL [env ANDON_DATABASE_URL]")
@click.option("--debug", is_flag=True, help="show tracebacks")
@click.version_option(package_name="andon")
@click.pass_context
def main(ctx: click.Context, project: str | None, database_url: str | None, debug: bool) -> None:
    """andon: a lean orchestrator. Runs start the moment their data lands."""
    ctx.obj = Env(project, debug, {"database_url": database_url})


# -- a client for a running `andon up` ----------------------------------------------------------

class Remote:
    """Talks to a running ``andon up`` over its API (stdlib HTTP: no heavy import)."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url.rstrip("/"), token

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """The answer to one request: JSON decoded, or text."""
        raw, headers = self.request(method, path, body)
        return json.loads(raw) if "json" in headers.get("content-type", "") else raw.decode()

    def request(self, method: str, path: str, body: Any = None) -> tuple[bytes, Any]:
        """The raw answer to one request and its headers; an error answer raises."""
        import urllib.error
        import urllib.request

        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.read(), resp.headers
        except urllib.error.HTTPError as err:
            raise _api_error(err) from None

    def messages(self, path: str, last_event_id: str = "") -> Iterator[dict[str, str]]:
        """The server-sent events of ``path`` as dicts of their fields (``event`` defaults to
        ``message``), until the server ends the stream."""
        import urllib.error
        import urllib.request

        req = urllib.request.Request(self.url + path, headers={"Accept": "text/event-stream"})
        if last_event_id:
            req.add_header("Last-Event-ID", last_event_id)
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:  # heartbeats come every 15 s: a minute of silence means the server is gone
            with urllib.request.urlopen(req, timeout=60) as resp:
                fields: dict[str, str] = {}
                for raw in resp:
                    line = raw.decode("utf-8").rstrip("\r\n")
                    if not line:
                        if "data" in fields:
                            yield {"event": "message", **fields}
                        fields = {}
                    elif not line.startswith(":"):
                        name, _, value = line.partition(":")
                        fields[name] = value.removeprefix(" ")
        except urllib.error.HTTPError as err:
            raise _api_error(err) from None


def _api_error(err: Any) -> Exception:
    """An API error answer as the AndonError it describes (exit code 2)."""
    from andon.model.errors import AndonError

    try:
        info = json.loads(err.read())
    except ValueError:
        info = {"message": f"HTTP {err.code}"}
    exc = AndonError(info.get("message", f"HTTP {err.code}"), where=info.get("where", ""),
                     hint=info.get("hint", ""))
    exc.exit_code = 2
    return exc


def remote(env: Env, settings: Any) -> Remote | None:
    """A client for the project's running server, or None to work on the store directly."""
    from andon.up import server_url

    url = settings.server_url or server_url(settings.state_dir)
    if not url:
        return None
    token = settings.api_token
    if not token and (settings.state_dir / "token").exists():
        token = (settings.state_dir / "token").read_text().strip()
    return Remote(url, token)


def local(project: Any, settings: Any) -> Any:
    from andon.service import Service
    from andon.store.sql import Store

    settings.state_dir.mkdir(parents=True, exist_ok=True)
    return Service(project.graph, Store(settings.database_url), project.root,
                   settings.max_backfill)


def _now() -> Any:
    from datetime import datetime

    return datetime.now(UTC)


# -- commands -------------------------------------------------------------------------------------

@main.command()
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


@main.command()
@click.option("--json", "as_json", is_flag=True, help="print the graph as JSON")
@click.pass_obj
@friendly
def validate(env: Env, as_json: bool) -> None:
    """Load the definitions and report every problem (exit 2 if any)."""
    project, _settings = env.load()
    g = project.graph
    if as_json:
        out_json({"project": project.name, "pipelines": list(g.order),
                  "sources": sorted(a.name for a in g.assets.values() if a.source),
                  "pools": {p.name: p.capacity for p in g.pools.values()}})
        return
    sources = sum(1 for a in g.assets.values() if a.source)
    click.echo(f"ok: {len(g.pipelines)} pipelines, {sources} sources, {len(g.pools)} pools "
               f"in {project.root / 'andon.toml'}")


@main.command()
@click.option("--host", help="address to bind [env ANDON_HOST; default 127.0.0.1]")
@click.option("--port", type=int, help="port [env ANDON_PORT; default 8765; 0 = any free]")
@click.option("--executor", type=click.Choice(["local", "inprocess"]), help="[env ANDON_EXECUTOR]")
@click.option("--policy", type=click.Choice(POLICY_NAMES),
              help=f"dispatch policy [env ANDON_POLICY; default {DEFAULT_POLICY}]")
@click.pass_obj
@friendly
def up(env: Env, host: str | None, port: int | None, executor: str | None,
       policy: str | None) -> None:
    """Run the scheduler and the HTTP server until Ctrl-C."""
    from andon.logs import setup_logging
    from andon.up import ensure_local_token, open_line, serve

    project, settings = env.load(host=host, port=port, executor=executor, policy=policy)
    setup_logging(settings.log_format)
    line = open_line(project, settings)
    ensure_local_token(settings, line.store)

    def ready(line: Any) -> None:
        click.echo(f"andon is up: {line.url}  (project {project.name}, "
                   f"{len(project.graph.pipelines)} pipelines)", err=True)

    serve(line, ready)


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
    project, settings = env.load()
    client = remote(env, settings)
    if client:
        body = {"asset": asset, "partition": partition}
        if event_id is not None:
            body["id"] = event_id
        res = client.call("POST", "/api/v1/notify", body)
        recorded = res["recorded"]
    else:
        svc = local(project, settings)
        (recorded,) = [bool(svc.store.append([svc.notify(asset, partition, _now(), "notify",
                                                          event_id)]))]
    click.echo(f"{asset} {partition}: " + ("recorded" if recorded else "already recorded"))


@main.command("run")
@click.argument("pipeline")
@click.option("--partition", required=True, help="partition key, e.g. 2026-01-05")
@click.pass_obj
@friendly
def run_cmd(env: Env, pipeline: str, partition: str) -> None:
    """Queue a manual run of one partition (re-makes it if it exists)."""
    project, settings = env.load()
    client = remote(env, settings)
    if client:
        client.call("POST", "/api/v1/runs", {"pipeline": pipeline, "partition": partition})
    else:
        svc = local(project, settings)
        svc.store.append([svc.run_request(pipeline, partition, _now(), "manual", "cli")])
    click.echo(f"requested {pipeline} {partition}" + ("" if client else
               " (no scheduler is running: it starts with the next `andon up`)"))


@main.command()
@click.argument("pipeline")
@click.option("--from", "first", required=True, help="first partition")
@click.option("--to", "last", required=True, help="last partition (inclusive)")
@click.pass_obj
@friendly
def backfill(env: Env, pipeline: str, first: str, last: str) -> None:
    """Re-make PIPELINE's partitions from --from to --to (consumers follow)."""
    project, settings = env.load()
    client = remote(env, settings)
    if client:
        res = client.call("POST", "/api/v1/backfills", {"pipeline": pipeline, "from": first,
                                                         "to": last})
        n = len(res["partitions"])
    else:
        svc = local(project, settings)
        events = svc.backfill(pipeline, first, last, _now(), "cli")
        svc.store.append(events)
        n = len(events)
    click.echo(f"requested {n} partition(s) of {pipeline}")


@main.command()
@click.argument("run_id")
@click.pass_obj
@friendly
def cancel(env: Env, run_id: str) -> None:
    """Cancel a queued or running run."""
    project, settings = env.load()
    client = remote(env, settings)
    if client:
        client.call("POST", f"/api/v1/runs/{run_id}/cancel", {})
    else:
        svc = local(project, settings)
        svc.store.append([svc.cancel(run_id, _now(), "cli")])
    click.echo(f"cancel requested for {run_id}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@click.pass_obj
@friendly
def status(env: Env, as_json: bool) -> None:
    """Show every pipeline's partitions by state and every source's arrivals."""
    project, settings = env.load()
    client = remote(env, settings)
    data = client.call("GET", "/api/v1/status") if client else local(project, settings).status()
    if as_json:
        out_json(data)
        return
    rows = [(p["name"], p["state"], str(p["partitions"]["succeeded"]),
             str(p["partitions"]["running"]), str(p["partitions"]["queued"]),
             str(p["partitions"]["failed"])) for p in data["pipelines"]]
    _table(("PIPELINE", "STATE", "OK", "RUNNING", "QUEUED", "FAILED"), rows)
    click.echo()
    _table(("SOURCE", "PARTITIONS", "LATEST"),
           [(s["name"], str(s["partitions"]), s["latest"] or "-") for s in data["sources"]])
    for h in data.get("halted", []):
        why = "; ".join(f"cord {c['cord_id']} on {c['asset']} {c['partition']}: {c['reason']}"
                        for c in h["cords"])
        click.echo(f"halted: {h['pipeline']} {h['partition']} by {why}")
    failed = [f for p in data["pipelines"] for f in p["failures"]]
    for f in failed:
        click.echo(f"failed: {f['run_id']}: {f['error_type']}: {f['error_message']}")
    if failed:
        sys.exit(1)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@click.pass_obj
@friendly
def plan(env: Env, as_json: bool) -> None:
    """Show every upcoming deliverable: predicted start and finish, due time, slack, at risk."""
    project, settings = env.load()
    client = remote(env, settings)
    data = client.call("GET", "/api/v1/plan") if client else \
        local(project, settings).plan(_now(), settings.policy)
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
    _table(("PIPELINE", "PARTITION", "STATE", "START", "FINISH", "DUE", "SLACK", "RISK", "REASON"),
           rows)
    if not rows:
        ended = project.end is not None and _now().date() > project.end
        click.echo(f"no upcoming deliverables (the project ended on {project.end}: [project] end "
                   "in andon.toml)" if ended else
                   "no upcoming deliverables (give a pipeline a deadline to plan for it)", err=True)


@main.command()
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
    project, settings = env.load()
    client = remote(env, settings)
    if client:
        from urllib.parse import urlencode

        query = urlencode({k: v for k, v in dict(pipeline=pipeline, status=state,
                                                 partition=partition, limit=limit).items() if v})
        data = client.call("GET", f"/api/v1/runs?{query}")
    else:
        data = local(project, settings).runs(pipeline, state, partition, limit)
    if as_json:
        out_json(data)
        return
    _table(("RUN", "STATUS", "ATTEMPT", "REASON", "STARTED", "WORK"),
           [(r["run_id"], r["status"], str(r["attempt"]), r["reason"], r["started_at"] or "-",
             f"{r['work_seconds']:.2f}s" if r["work_seconds"] is not None else "-") for r in data])


@main.command()
@click.argument("run_id")
@click.option("--follow", "-f", is_flag=True, help="while the run executes, print what it "
              "writes as it writes it, until it ends (exit 1 if it did not succeed)")
@click.pass_obj
@friendly
def logs(env: Env, run_id: str, follow: bool) -> None:
    """Print the captured output of a run."""
    project, settings = env.load()
    client = remote(env, settings)
    if client:
        from urllib.parse import quote

        path = f"/api/v1/runs/{quote(run_id, safe='')}/log"
        if follow:
            _follow_log(client, path + "/stream")
            return

        def read(offset: int) -> tuple[str, int]:
            raw, headers = client.request("GET", f"{path}?offset={offset}")
            return raw.decode("utf-8", "replace"), int(headers["X-Andon-Next-Offset"])
    else:  # no `andon up`: nothing runs, so nothing is added to the log
        svc = local(project, settings)
        if follow:
            click.echo("no `andon up` is running for this project: the log as it is", err=True)

        def read(offset: int) -> tuple[str, int]:
            return svc.log_page(run_id, offset)
    offset = 0
    while True:  # page by page (a page is at most 1 MB): a long log is never held whole
        text, after = read(offset)
        click.echo(text, nl=False)
        if after <= offset:
            return
        offset = after


def _follow_log(client: Remote, path: str) -> None:
    """Print a run's log from its server-sent-event stream as it comes; when the stream ends
    before the run did (the server restarted), resume after the last byte received."""
    from andon.model.errors import AndonError

    offset, tries = "", 0
    while tries < 3:
        tries += 1
        for msg in client.messages(path, offset):
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


@main.group()
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
    project, settings = env.load()
    client = remote(env, settings)
    if client:
        cord_id = client.call("POST", "/api/v1/cords", {"asset": asset, "partition": partition,
                                                        "reason": reason})["cord_id"]
    else:
        svc = local(project, settings)
        event = svc.cord_pull(asset, partition, reason, _now(), _user())
        svc.store.append([event])
        cord_id = event.cord_id
    click.echo(f"pulled cord {cord_id}" + ("" if client else
               " (no scheduler is running: it halts from the next `andon up`)"))
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
    project, settings = env.load()
    client = remote(env, settings)
    if client:
        from urllib.parse import quote

        client.call("POST", f"/api/v1/cords/{quote(cord_id, safe='')}/resolve",
                    {"note": note, "manual_fix": manual_fix})
    else:
        svc = local(project, settings)
        svc.store.append([svc.cord_resolve(cord_id, note, _now(), _user(), manual_fix)])
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
    project, settings = env.load()
    client = remote(env, settings)
    if client:
        from urllib.parse import quote

        body: dict[str, Any] = {"asset": asset, "partition": partition}
        if version is not None:
            body["version"] = version
        done = client.call("POST", f"/api/v1/cords/{quote(cord_id, safe='')}/restore", body)
        version, location = done["version"], done["location"]
    else:
        svc = local(project, settings)
        event = svc.output_restore(cord_id, asset, partition, version, _now(), _user())
        svc.store.append([event])
        version, location = event.version, event.location
    click.echo(f"restored {asset} {partition} v{version} to {location}")


@cord.command("list")
@click.option("--all", "everything", is_flag=True, help="resolved cords too")
@click.option("--json", "as_json", is_flag=True, help="print JSON (with each incident's timeline)")
@click.pass_obj
@friendly
def cord_list(env: Env, everything: bool, as_json: bool) -> None:
    """List open andon cords (every cord with --all), newest first."""
    project, settings = env.load()
    client = remote(env, settings)
    data = client.call("GET", "/api/v1/cords" + ("?all=1" if everything else "")) if client \
        else local(project, settings).cords(everything)
    if as_json:
        out_json(data)
        return
    _table(("CORD", "STATUS", "ASSET", "PARTITION", "HALTED", "PULLED", "BY", "REASON"),
           [(c["cord_id"], c["status"], c["asset"], c["partition"], str(c["halted"]),
             c["pulled_at"][:19], c["pulled_by"] or "-", c["reason"]) for c in data])


@cord.command("show")
@click.argument("cord_id")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@click.pass_obj
@friendly
def cord_show(env: Env, cord_id: str, as_json: bool) -> None:
    """Show one cord as an incident: its timeline, what it halts, its suspect outputs."""
    project, settings = env.load()
    client = remote(env, settings)
    if client:
        from urllib.parse import quote

        data = client.call("GET", f"/api/v1/cords/{quote(cord_id, safe='')}")
    else:
        data = local(project, settings).cord(cord_id)
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


def _user() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name (a container without /etc/passwd entry)
        return "cli"


@main.group()
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
    project, settings = env.load()
    made = local(project, settings).token_create(role, name, _now())
    click.echo(made["token"])
    click.echo(f"token {made['id']} ({role}): shown only now; revoke it with "
               f"`andon token revoke {made['id']}`", err=True)


@token.command("list")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@click.pass_obj
@friendly
def token_list(env: Env, as_json: bool) -> None:
    """List every token, oldest first, by id (never the token or its hash)."""
    project, settings = env.load()
    data = local(project, settings).tokens()
    if as_json:
        out_json(data)
        return
    _table(("ID", "NAME", "ROLE", "CREATED", "REVOKED"),
           [(t["id"], t["name"] or "-", t["role"], t["created_at"][:19],
             (t["revoked_at"] or "-")[:19]) for t in data])


@token.command("revoke")
@click.argument("token_ref", metavar="ID_OR_TOKEN")
@click.pass_obj
@friendly
def token_revoke(env: Env, token_ref: str) -> None:
    """Revoke a token, named by its id or by the token itself (it fails on its very next
    request)."""
    from andon.tokens import PREFIX, digest, token_id

    project, settings = env.load()
    ident = token_id(digest(token_ref)) if token_ref.startswith(PREFIX) else token_ref
    click.echo(f"revoked {local(project, settings).token_revoke(ident, _now())['id']}")


@main.command()
@click.argument("directory", default="demo-project", type=click.Path(file_okay=False))
@click.option("--speed", default=3600.0, show_default=True,
              help="simulated seconds per real second")
@click.option("--days", default=7, show_default=True, help="daily partitions to replay")
@click.option("--port", default=8765, show_default=True, help="dashboard port (0 = any free)")
@click.option("--exit-when-done", is_flag=True, help="exit once every partition is made")
@click.option("--executor", type=click.Choice(["local", "inprocess"]), default="local",
              show_default=True)
@click.pass_obj
@friendly
def demo(env: Env, directory: str, speed: float, days: int, port: int, exit_when_done: bool,
         executor: str) -> None:
    """Write the retail + ML example to DIRECTORY and run a week of it on an accelerated clock."""
    from andon.demo import run_demo

    code = run_demo(Path(directory), speed=speed, days=days, port=port,
                    exit_when_done=exit_when_done, executor=executor)
    sys.exit(code)


@main.command()
@click.argument("scenario_file", metavar="SCENARIO", type=click.Path(dir_okay=False))
@click.option("--policy", default=DEFAULT_POLICY.value, show_default=True,
              help=one_of(ALL_POLICIES))
@click.option("--compare", is_flag=True, help="run every policy and print one table")
@click.option("--trace", "trace_file", type=click.Path(dir_okay=False),
              help="write the trace (JSON lines) here")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@friendly
def simulate(scenario_file: str, policy: str, compare: bool, trace_file: str | None,
             as_json: bool) -> None:
    """Run a scenario through the engine and a policy on a virtual clock."""
    from andon.sim.run import simulate as run_sim
    from andon.sim.run import write_trace
    from andon.sim.scenario import load_scenario

    scenario = load_scenario(scenario_file)
    if policy not in ALL_POLICIES:
        from andon.model.errors import ConfigError

        raise ConfigError(f"unknown policy {policy!r}", hint="use one of " + ", ".join(ALL_POLICIES))
    policies = ALL_POLICIES if compare else (policy,)
    results = []
    for name in policies:
        metrics, result = run_sim(scenario, name)
        results.append(metrics)
        if trace_file and not compare:
            write_trace(result, Path(trace_file))
    if as_json:
        out_json(results if compare else results[0])
        return
    cols = ("deadline_misses", "weighted_tardiness_minutes", "max_lateness_minutes",
            "slot_seconds_waiting", "polling_checks", "wasted_runs", "runs", "utilisation",
            "replan_ms_p99")
    short = ("MISSES", "W.TARDY(min)", "MAX.LATE(min)", "SLOT.WAIT(s)", "POLLS", "WASTED", "RUNS",
             "UTIL", "REPLAN.P99(ms)")
    click.echo(f"scenario {scenario.name}: {results[0]['deliverables']} deliverables, "
               f"{len(scenario.graph.pipelines)} pipelines, {scenario.days} days")
    _table(("POLICY", *short), [(m["policy"], *(str(m[c]) for c in cols)) for m in results])
    for m in results:
        for note in m.get("notes", []):
            click.echo(f"note ({m['policy']}): {note}", err=True)


@main.group()
def scenario() -> None:
    """Work with simulation scenarios."""


@scenario.command("from-trace")
@click.argument("trace_file", metavar="FILE", type=click.Path(dir_okay=False))
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="write here, not stdout")
@click.option("--days", default=7, show_default=True, help="daily partitions to simulate")
@click.option("--slots", default=0, help="pool capacity (default: the trace's machine cores)")
@click.option("--deadline-factor", default=1.5, show_default=True,
              help="deadline = arrival + critical path x this")
@click.option("--noise", default=0.4, show_default=True,
              help="run-time spread: p90 = p50 x exp(1.2816 x noise)")
@friendly
def scenario_from_trace(trace_file: str, output: str | None, days: int, slots: int,
                        deadline_factor: float, noise: float) -> None:
    """Turn a WfCommons workflow instance into a scenario (assumptions: docs/scenarios.md)."""
    from andon.sim.wfcommons import convert

    data = convert(Path(trace_file), days=days, slots=slots or None,
                   deadline_factor=deadline_factor, noise=noise)
    text = json.dumps(data, indent=1)
    if output:
        Path(output).write_text(text + "\n")
        click.echo(f"wrote {output}: {len(data['pipelines'])} pipelines", err=True)
    else:
        click.echo(text)


def _table(header: tuple[str, ...], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip())
    for row in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())


if __name__ == "__main__":
    main()
