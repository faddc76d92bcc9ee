"""``andon manual``: the operations manual (problems grouped by signature, with what fixed them),
one entry, writing down a fix, the review of the last days, and the export as documents."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from andon.cli.group import INSPECT, Env, friendly, main, out_json, table
from andon.manual.entries import KINDS

SHOWN = 20  # occurrences `andon manual show` lists (--json gives them all)
MARKER = ".andon-manual-export"  # names the files an export wrote, one a line


def _plain(text: Any) -> str:
    """``text`` on one terminal line: control characters (an escape sequence in a failure's
    message) shown as ``?``."""
    from andon.registry.declared import CONTROL

    return CONTROL.sub("?", str(text))


def _when(iso: str) -> str:
    return iso[:16].replace("T", " ") if iso else "-"


@main.group(invoke_without_command=True, section=INSPECT)
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@click.option("--kind", type=click.Choice(KINDS), help="only problems that showed this way")
@click.option("--since", metavar="DATE", help="only problems seen at or after DATE "
              "(YYYY-MM-DD, or an ISO time)")
@click.pass_context
@friendly
def manual(ctx: click.Context, as_json: bool, kind: str | None, since: str | None) -> None:
    """The operations manual: the problems andon saw (failures for good, lost runs, failing
    checks, cords, missed deadlines), grouped by signature, by kind, newest first, with how
    they were fixed."""
    if ctx.invoked_subcommand is not None:
        return
    env: Env = ctx.obj
    data = env.client().manual(kind, since)
    if as_json:
        out_json(data)
        return
    entries = data["entries"]
    if not entries:
        click.echo("the manual is empty: no problem recorded" + (" that matches" if kind or since
                                                                 else ""), err=True)
        return
    for k in [k for k in KINDS if any(e["kind"] == k for e in entries)]:
        click.echo(f"{k}:")
        table(("  ENTRY", "SEEN", "FIRST", "LAST", "FIXED", "PIPELINES", "TITLE"),
              [("  " + e["id"], str(e["count"]), _when(e["first_seen"]), _when(e["last_seen"]),
                "REGRESSION" if e["regression"] else "yes" if e["resolutions"] else "no",
                _plain(", ".join(e["pipelines"]) or "-"), _plain(e["title"]))
               for e in entries if e["kind"] == k])
        click.echo()
    click.echo("one entry: andon manual show ENTRY; write down a fix: andon manual resolve ENTRY "
               "--note \"...\"", err=True)


@manual.command("show")
@click.argument("entry_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@click.pass_obj
@friendly
def manual_show(env: Env, entry_id: str, as_json: bool) -> None:
    """Show one entry of the manual: where and when it showed, what it reached, its fixes."""
    e = env.client().manual_entry(entry_id)
    if as_json:
        out_json(e)
        return
    click.echo(f"{e['id']} ({e['kind']}): {_plain(e['title'])}")
    click.echo(f"  pipelines: {_plain(', '.join(e['pipelines']) or '-')}")
    click.echo(f"  assets: {_plain(', '.join(e['assets']) or '-')}")
    click.echo(f"  seen {e['count']} time{'s' if e['count'] != 1 else ''}: first "
               f"{_when(e['first_seen'])}, last {_when(e['last_seen'])}")
    if e["error_type"]:
        where = f" in {e['file']} {e['function']}" if e["file"] else ""
        click.echo(f"  error: {_plain(e['error_type'] + where)}")
    for name in ("time_to_detect_seconds", "time_to_recover_seconds"):
        if e.get(name) is not None:
            click.echo(f"  {name.replace('_seconds', '').replace('_', ' ')}: {e[name]:.0f}s "
                       "(mean)")
    if e["consumers"]:
        click.echo(f"  consumers reached: {_plain(', '.join(e['consumers']))}")
    if e["partitions"]:
        click.echo(f"  partitions: {_plain(', '.join(e['partitions']))}")
    if e["regression"]:
        click.echo("  REGRESSION: it came back after its fix, from code as new as the fix")
    if not e["resolutions"]:
        click.echo(f"  not fixed yet: andon manual resolve {e['id']} --note \"...\"")
    for r in reversed(e["resolutions"]):
        extra = (f" ({r['link']})" if r["link"] else "") + (
            f" commit {r['commit']}" if r["commit"] else "")
        click.echo(f"  fixed {_when(r['at'])} by {_plain(r['by'] or '-')}: "
                   f"{_plain(r['note'] + extra)}")
    occurrences = list(reversed(e["occurrences"]))
    click.echo("  occurrences, newest first:")
    for o in occurrences[:SHOWN]:
        what = o["run_id"] or o["cord_id"] or o["check"]
        code = " ".join(f"{label} {o[key][:12]}" for label, key in
                        (("code", "code_version"), ("commit", "commit")) if o[key])
        click.echo("    " + _plain(" ".join(x for x in (
            _when(o["at"]), o["pipeline"] or o["asset"], o["partition"], what, code,
            "[regression]" if o["regression"] else "") if x)))
    if len(occurrences) > SHOWN:
        click.echo(f"    ... and {len(occurrences) - SHOWN} more (--json gives them all)")


@manual.command("resolve")
@click.argument("signature")
@click.option("--note", required=True, help="what was wrong and how it was fixed (1 to 2,000 "
              "characters): shown the next time the problem shows")
@click.option("--link", default="", help="an http(s) link: the issue, the pull request")
@click.option("--commit", default="", help="the commit of the fix (4 to 40 hex digits)")
@click.pass_obj
@friendly
def manual_resolve(env: Env, signature: str, note: str, link: str, commit: str) -> None:
    """Write down how the problem of entry SIGNATURE was fixed."""
    done = env.client().manual_resolve(signature, note, link, commit)
    click.echo(f"resolved {done['entry']}" + ("" if done["recorded"] else " (already recorded)")
               + ": the fix is shown when the problem comes back")


@manual.command("review")
@click.option("--days", default=30, show_default=True, type=click.IntRange(min=1),
              help="the window: the last DAYS days (at most 366)")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@click.pass_obj
@friendly
def manual_review(env: Env, days: int, as_json: bool) -> None:
    """Review the last days: the problems that keep coming back (seen 3 times or more:
    candidates for automation), and the share of the time that went to reactive work."""
    from andon.live.manual import REVIEW_MAX_DAYS

    if days > REVIEW_MAX_DAYS:
        raise click.BadParameter(f"{days} is more than {REVIEW_MAX_DAYS}", param_hint="--days")
    r = env.client().manual_review(days)
    if as_json:
        out_json(r)
        return
    click.echo(f"the last {r['days']} days ({_when(r['since'])} to {_when(r['until'])})")
    if r["rows"]:
        table(("ENTRY", "LABEL", "SEEN", "LAST", "KIND", "TITLE"),
              [(row["entry"], row["label"], str(row["count"]), _when(row["last_seen"]),
                row["kind"], _plain(row["title"])) for row in r["rows"]])
    else:
        click.echo("no problem in the window")
    frequent = sum(1 for row in r["rows"] if row["label"] == "frequent")
    if frequent:
        click.echo(f"{frequent} problem{'s' if frequent != 1 else ''} came back 3 times or more: "
                   "candidates for automation")
    verdict = (f"ABOVE {r['threshold']:.0%}: improve the platform's reliability"
               if r["flagged"] else f"within {r['threshold']:.0%}")
    click.echo(f"reactive share: {r['reactive_share']:.1%} ({verdict}); incidents "
               f"{r['incident_share']:.1%} of the pipelines' time, redone or failed compute "
               f"{r['compute_share']:.1%} of the compute")


@manual.command("export")
@click.argument("directory", metavar="DIR", type=click.Path(file_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["markdown", "html"]), default="markdown",
              show_default=True, help="Markdown (as GitHub shows it) or self-contained HTML")
@click.option("--kind", type=click.Choice(KINDS), help="only problems that showed this way")
@click.option("--since", metavar="DATE", help="only problems seen at or after DATE")
@click.option("--force", is_flag=True, help="write into DIR even when it holds other files "
              "(files of the same name are replaced)")
@click.pass_obj
@friendly
def manual_export(env: Env, directory: Path, fmt: str, kind: str | None, since: str | None,
                  force: bool) -> None:
    """Write the manual into DIR as documents to read offline or commit: index.md (or .html)
    and one file per entry, named by its id. DIR is created, or must be empty, or hold a
    previous export (whose files are replaced), unless --force."""
    from datetime import UTC, datetime

    from andon.events.codec import format_time
    from andon.manual.export import render
    from andon.manual.views import entry_from_json

    before = _previous_export(directory, force)
    data = env.client().manual(kind, since)
    docs = render(fmt, [entry_from_json(e) for e in data["entries"]],
                  format_time(datetime.now(UTC)))
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in docs.items():
        _write(directory / name, text)
    for name in before - set(docs):  # entries of the previous export no longer listed
        (directory / name).unlink(missing_ok=True)
    _write(directory / MARKER, "".join(f"{name}\n" for name in sorted(docs)))
    click.echo(f"wrote {len(docs) - 1} entr{'ies' if len(docs) != 2 else 'y'} and "
               f"{next(n for n in docs if n.startswith('index.'))} to {directory}")


def _previous_export(directory: Path, force: bool) -> set[str]:
    """The files a previous export wrote into ``directory`` (to be removed when their entry is
    gone); refuses a folder with anything else in it, unless ``force``."""
    from andon.model.errors import ConfigError

    if not directory.exists():
        return set()
    if not directory.is_dir():
        raise ConfigError(f"{directory} is not a folder", hint="name a folder to write into")
    marker = directory / MARKER
    before: set[str] = set()
    if marker.is_file() and not marker.is_symlink():
        before = {line for line in marker.read_text(errors="replace").splitlines()
                  if line.endswith((".md", ".html")) and "/" not in line and "\\" not in line
                  and not line.startswith(".")}  # only pages an export writes
    others = sorted(p.name for p in directory.iterdir() if p.name not in before | {MARKER})
    if others and not force:
        raise ConfigError(f"{directory} holds other files ({', '.join(others[:3])}"
                          + (", ..." if len(others) > 3 else "") + ")",
                          hint="name an empty or new folder, or a previous export's; or add "
                               "--force to write among them")
    return before


def _write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole: into a file beside it, then moved over it (a link at
    ``path`` is replaced, never followed)."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    with open(tmp, "x", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
