"""Load a project: its ``andon.toml``, its definition modules, and the validated graph."""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import threading
import tomllib
import traceback
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from andon.model.access import Access, parse_access
from andon.model.definitions import DEFAULT_LOCATION, Asset, Check, Input, Pipeline, Pool, check_run_names
from andon.model.durations import DurationFormatError, parse_duration
from andon.model.errors import AndonError, ConfigError, DefinitionError
from andon.model.graph import Graph, build_graph
from andon.model.limits import duration_problem, location_problem, moment_problem
from andon.model.partitions import PartitionKeyError, parse_partitions
from andon.project.checks import check_problems, split_checks
from andon.project.dsl import Declaration, collect, declared
from andon.project.performance import place_derived
from andon.project.profiles import profiled
from andon.project.retention import SweepPolicy, sweeping
from andon.project.serving import resolve_serving
from andon.project.version import stamped
from andon.project.waste import REGION, AuditSettings, audit_settings, with_retention

PROJECT_FILE = "andon.toml"
IMPORT_TIMEOUT = timedelta(seconds=30)  # [project] import_timeout: the longest a module may import


@dataclass(frozen=True)
class Project:
    root: Path
    name: str
    config: dict[str, Any]
    graph: Graph
    start: datetime
    checks: tuple[Check, ...] = ()  # data quality checks, in declaration order
    end: date | None = None  # the last day of partitions, inclusive ([project] end); None: none
    model_checks: tuple[Check, ...] = ()  # checks on models (drift, performance), in order
    sweep: SweepPolicy = SweepPolicy()  # [sweep] and the declarations' retention (andon sweep)
    audit: AuditSettings = AuditSettings()  # [audit] and the audit's declarations (waste.py)

    @property
    def settings_table(self) -> dict[str, Any]:
        """``[settings]``, plus the ``smtp_*`` settings, which may also sit in ``[notify]``
        next to the webhooks they go with (``[settings]`` wins)."""
        notify = self.config.get("notify", {})
        smtp = {k: v for k, v in notify.items() if k.startswith("smtp_")} \
            if isinstance(notify, dict) else {}
        return {**smtp, **self.config.get("settings", {})}


def find_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` holding an andon.toml."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / PROJECT_FILE).is_file():
            return folder
    raise ConfigError(f"no {PROJECT_FILE} in {start} or any folder above it",
                      hint="run inside a project, pass --project DIR, or create one with "
                           "`andon init DIR`")


def read_config(root: Path) -> dict[str, Any]:
    path = root / PROJECT_FILE
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path} does not exist",
                          hint="create a project with `andon init DIR`") from None
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"at line (\d+)", str(exc))
        raise ConfigError(f"{PROJECT_FILE} is not valid TOML: {exc}",
                          where=f"{path}:{line.group(1)}" if line else str(path),
                          hint="fix the syntax at the line shown (https://toml.io)") from None


def _import(path: Path, index: int, root: Path) -> None:
    name = f"andon_project_{index}_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"cannot import {path}", hint="definitions must be .py files")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except AndonError:
        sys.modules.pop(name, None)
        raise  # already names the file, the object and the fix
    except SystemExit as exc:
        sys.modules.pop(name, None)
        raise DefinitionError(f"importing {path.name} called sys.exit({exc.code!r}); a "
                              "definitions module must only declare, never end the process",
                              where=_error_site(exc, path, root),
                              hint="remove the exit (put a script's own work under "
                                   "`if __name__ == \"__main__\":`)") from exc
    except BaseException as exc:  # an Exception, or KeyboardInterrupt & co. raised by the module
        sys.modules.pop(name, None)
        raise DefinitionError(f"importing {path.name} failed: {type(exc).__name__}: {exc}",
                              where=_error_site(exc, path, root),
                              hint="fix the error in the definitions module "
                                   "(`andon --debug validate` shows the traceback)") from exc


def _import_all(paths: list[Path], root: Path, timeout: timedelta) -> None:
    """Import the definition modules in order, on a thread of their own so that one which never
    finishes (a network call, an endless loop) is reported naming the file and the line it was
    stuck at once ``timeout`` has passed; the stuck thread is left behind (a daemon)."""
    current: list[Path] = []
    failure: list[BaseException] = []

    def work() -> None:
        try:
            for i, path in enumerate(paths):
                current[:] = [path]
                _import(path, i, root)
        except BaseException as exc:  # handed to the caller's thread
            failure.append(exc)

    thread = threading.Thread(target=work, name="andon-import", daemon=True)
    thread.start()
    thread.join(timeout.total_seconds())
    if thread.is_alive():
        path = current[0] if current else paths[0]
        raise DefinitionError(
            f"importing {path.name} took longer than {_seconds(timeout)} (import_timeout) and "
            "was abandoned", where=_stuck_at(thread, path),
            hint="a definitions module must only declare: move slow work (downloads, queries, "
                 "waiting) into the pipelines, or raise [project] import_timeout in andon.toml")
    if failure:
        raise failure[0]


def _seconds(delta: timedelta) -> str:
    return f"{delta.total_seconds():g}s"


def _stuck_at(thread: threading.Thread, path: Path) -> str:
    """``file:line`` where ``thread`` is now inside ``path`` (the module's own line), else the
    file."""
    frame = sys._current_frames().get(thread.ident or -1)
    target = str(path.resolve())
    while frame is not None:
        if str(Path(frame.f_code.co_filename).resolve()) == target:
            return f"{path}:{frame.f_lineno}"
        frame = frame.f_back
    return str(path)


def _error_site(exc: BaseException, path: Path, root: Path) -> str:
    """``file:line`` in the project's own code where ``exc`` was raised: a syntax error's own
    position, else the deepest traceback frame under the project folder (not a library's)."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{exc.filename}:{exc.lineno}"
    ours = [f for f in traceback.extract_tb(exc.__traceback__)
            if not f.filename.startswith("<") and "site-packages" not in f.filename
            and Path(f.filename).resolve().is_relative_to(root)]
    return f"{ours[-1].filename}:{ours[-1].lineno}" if ours else str(path)


def load_project(root: Path) -> Project:
    """Read andon.toml, import its definition modules and validate everything."""
    config = read_config(root)
    file = str(root / PROJECT_FILE)
    proj = config.get("project", {})
    try:
        start = datetime.fromisoformat(str(proj.get("start", "2026-01-01"))).replace(
            tzinfo=UTC)
    except ValueError:
        raise ConfigError(f"[project] start = {proj.get('start')!r} is not a date", where=file,
                          hint="write start = \"2026-01-01\"") from None
    out_of_range = moment_problem(start)
    if out_of_range:
        raise ConfigError(f"[project] start = {str(proj.get('start'))!r}: {out_of_range}",
                          where=_line_of(file, "project", "start"),
                          hint="write a first day inside that range, e.g. start = \"2026-01-01\"")
    end = _end(proj, start, file)
    data_roots = _data_roots(proj, root, file)
    timeout = _import_timeout(proj, file)
    until = None if end is None else datetime.combine(end + timedelta(days=1), time(), UTC)
    modules = proj.get("definitions", ["pipelines.py"])
    if isinstance(modules, str):
        modules = [modules]
    paths = [root / m for m in modules]
    for p in paths:
        if not p.is_file():
            raise ConfigError(f"definitions module {p.name} does not exist", where=file,
                              hint="fix [project] definitions in andon.toml")
    sys.path.insert(0, str(root))
    try:
        registry = collect(lambda: _import_all(paths, root.resolve(), timeout))
    finally:
        sys.path.remove(str(root))
    pools, audit = _pools(config, file), audit_settings(config, root, registry.declarations, end)
    graph = _build(place_derived(registry.declarations), pools, start, until, file,
                   os.path.normpath(os.path.abspath(root)), data_roots)
    checks, model_checks = split_checks(registry.declarations, graph)
    gated: dict[str, int] = {}
    for check in checks:
        if check.blocking:
            gated[check.asset] = gated.get(check.asset, 0) + 1
    graph, sweep = sweeping(stamped(replace(graph, gated=gated, declared=declared(registry),
                                            profiled=profiled(registry.declarations, graph)),
                                    root, [root / PROJECT_FILE, *paths]),
                            config, registry.declarations, file)
    return Project(root, str(proj.get("name", root.name)), config, graph, start, checks, end,
                   model_checks=model_checks, sweep=sweep,
                   audit=with_retention(audit, sweep.retention))


def _end(proj: dict[str, Any], start: datetime, file: str) -> date | None:
    """``[project] end``: the last day of partitions, inclusive (its hourly partitions too), on
    or after the day of ``start``; None when it is not set."""
    if "end" not in proj:
        return None
    value = proj["end"]
    where = _line_of(file, "project", "end")
    try:
        if isinstance(value, datetime):
            raise ValueError  # a moment: the end is a whole day
        end = value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(f"[project] end = {value!r} is not a date", where=where,
                          hint="write the last day of partitions, e.g. end = \"2026-01-11\" "
                               "(inclusive), or remove end to let partitions go on") from None
    out_of_range = moment_problem(datetime.combine(end, time(23), UTC))  # its last hour
    if out_of_range:
        raise ConfigError(f"[project] end = {str(value)!r}: {out_of_range}", where=where,
                          hint="set the last day inside that range, or remove end to let "
                               "partitions go on")
    if end < start.date():
        raise ConfigError(f"[project] end = {str(value)!r} is before start = "
                          f"{start.date().isoformat()!r}", where=where,
                          hint=f"end is the last day of partitions (inclusive): set it on or "
                               f"after {start.date().isoformat()}, or move start earlier")
    return end


def _data_roots(proj: dict[str, Any], root: Path, file: str) -> tuple[str, ...]:
    """``[project] data_roots``: folders outside the project that locations may point into,
    absolute or relative to the project, as absolute normalised paths."""
    raw = proj.get("data_roots", [])
    where = _line_of(file, "project", "data_roots")
    if not isinstance(raw, list) or not all(isinstance(r, str) and r.strip() for r in raw):
        raise ConfigError(f"[project] data_roots = {raw!r} is not a list of folders", where=where,
                          hint="write data_roots = [\"/data/lake\"] (absolute, or relative to "
                               "the project folder)")
    base = os.path.abspath(root)
    return tuple(os.path.normpath(os.path.join(base, r)) for r in raw)


def _import_timeout(proj: dict[str, Any], file: str) -> timedelta:
    """``[project] import_timeout``: how long importing the definitions may take."""
    if "import_timeout" not in proj:
        return IMPORT_TIMEOUT
    value = proj["import_timeout"]
    try:
        delta = parse_duration(value)
    except DurationFormatError as exc:
        delta, why = timedelta(0), str(exc)
    else:
        why = "" if timedelta(0) < delta <= timedelta(hours=1) else \
            f"{value!r} must be more than 0s and at most 1h"
    if why:
        raise ConfigError(f"[project] import_timeout = {why}",
                          where=_line_of(file, "project", "import_timeout"),
                          hint="write import_timeout = \"30s\" (the default), or remove it")
    return delta


def _line_of(file: str, table: str, key: str) -> str:
    """``file:line`` of ``key = ...`` inside ``[table]`` of a TOML file (``file`` if not found)."""
    try:
        lines = Path(file).read_text().splitlines()
    except OSError:
        return file
    current = ""
    for number, text in enumerate(lines, 1):
        stripped = text.strip()
        if stripped.startswith("[") and not stripped.startswith("[["):
            current = stripped.strip("[]").strip()
        elif current == table and re.match(rf"[\"']?{re.escape(key)}[\"']?\s*=", stripped):
            return f"{file}:{number}"
    return file


def _pools(config: dict[str, Any], file: str) -> list[Pool]:
    raw = config.get("pools", {"default": 4})
    if not isinstance(raw, dict):
        raise ConfigError(f"pools = {raw!r} is not a table", where=file,
                          hint="declare pools as a table: [pools] then one 'name = slots' a line")
    pools = []
    for name, value in raw.items():
        where = _line_of(file, "pools", name)
        table = value if isinstance(value, dict) else {"slots": value}
        cap, region = table.get("slots"), table.get("region", "")
        if not isinstance(cap, int) or isinstance(cap, bool) or set(table) - {"slots", "region"}:
            said = (f"= {str(value)[:60]} is not a number of slots" if isinstance(value, dict)
                    else f"has capacity {value!r}, not a whole number")
            raise ConfigError(f"pool {name!r} {said}", where=where,
                              hint=f"write '{name} = 4' (a whole number of slots), or "
                                   f'{name} = {{ slots = 4, region = "eu-west-1" }} under [pools]')
        if region and (not isinstance(region, str) or not REGION.fullmatch(region)):
            raise ConfigError(f"pool {name!r}: region = {str(region)[:40]!r} is no region",
                              where=where, hint='1 to 64 letters, digits, _ . -, e.g. "eu-west-1"')
        pools.append(Pool(name, cap, where=where, region=region))
    return pools


# fields that are lengths of time, and whether they must be positive (a deadline may be negative:
# it is measured from the partition's end)
_DURATIONS = {"timeout": "positive", "retry_delay": "zero or more",
              "expected_duration": "zero or more", "expected_arrival": "zero or more"}


def _duration(problems: list[str], decl: Declaration, field: str, value: Any) -> Any:
    if value is None:
        return None
    try:
        delta = parse_duration(value)
    except DurationFormatError as exc:
        problems.append(f"{decl.where}: {decl.kind} {decl.name!r}: {field}={exc}")
        return None
    too_long = duration_problem(field, delta)
    if too_long:
        problems.append(f"{decl.where}: {decl.kind} {decl.name!r}: {field}={value!r}: {too_long}")
        return None
    rule = _DURATIONS.get(field)
    if rule and (delta.total_seconds() < 0 or (rule == "positive" and not delta)):
        problems.append(f"{decl.where}: {decl.kind} {decl.name!r}: {field}={value!r} must be "
                        f"{rule}; write e.g. {field}='10m'")
        return None
    return delta


def _names(problems: list[str], decl: Declaration, field: str, items: Any) -> list[Any]:
    """The items of ``inputs`` / ``outputs``, reporting a bare string or a non-name item."""
    if items is None:
        return []
    if isinstance(items, (str, Input)):
        problems.append(f"{decl.where}: pipeline {decl.name!r}: {field}={items!r} must be a list; "
                        f"write {field}=[{items!r}]")
        return [items] if field == "inputs" or isinstance(items, str) else []
    if not isinstance(items, (list, tuple)):
        problems.append(f"{decl.where}: pipeline {decl.name!r}: {field}={items!r} must be a list "
                        f"of data set names, e.g. {field}=['orders']")
        return []
    out = []
    for item in items:
        if isinstance(item, str) or (field == "inputs" and isinstance(item, Input)):
            out.append(item)
        elif callable(item):
            problems.append(f"{decl.where}: pipeline {decl.name!r}: {field} holds the function "
                            f"{getattr(item, '__name__', item)!r}; name data sets instead "
                            f"(the outputs of that pipeline), e.g. {field}=['orders']")
        else:
            problems.append(f"{decl.where}: pipeline {decl.name!r}: {field} holds {item!r}; "
                            "write data set names (strings)"
                            + (" or andon.window(...) / andon.rollup(...)" if field == "inputs"
                               else ""))
    return out


def _inputs(items: list[Any]) -> tuple[Input, ...]:
    return tuple(item if isinstance(item, Input) else Input(str(item)) for item in items)


def _or_default(value: Any, default: Any) -> Any:
    """``value`` unless it is missing (a zero duration is a value, not a missing one)."""
    return default if value is None else value


def _build(decls: list[Declaration], pools: list[Pool], start: datetime,
           until: datetime | None, file: str, project_dir: str = "",
           data_roots: tuple[str, ...] = ()) -> Graph:
    problems: list[str] = []

    def place(d: Declaration, field: str, template: Any, asset: str, parts: Any) -> None:
        """Report a location template that cannot be filled in or leaves the roots."""
        if project_dir and isinstance(asset, str):
            problem = location_problem(field, template, asset, parts.key_of(parts.start),
                                       project_dir, data_roots)
            if problem:
                problems.append(f"{d.where}: {d.kind} {d.name!r}: {problem}")

    assets: list[Asset] = []
    pipes: list[Pipeline] = []
    for d in decls:
        o = d.options
        if d.kind in ("check", "catalog", "profile", "drill"):  # drills: andon.project.waste
            continue  # checks: against the declared assets below; entries: by the registry
        try:
            parts = parse_partitions(o["partitions"], start, until)
        except PartitionKeyError as exc:
            problems.append(f"{d.where}: {d.kind} {d.name!r}: {exc}")
            continue
        if d.kind == "source":
            if "{partition}" in str(Path(o["watch"] or "x").parent):
                problems.append(f"{d.where}: source {d.name!r}: watch={o['watch']!r} has "
                                "{partition} in a folder name; put it in the file name")
            for field in ("location", "watch"):
                if o[field]:
                    place(d, field, o[field], d.name, parts)
            assets.append(Asset(d.name, parts, source=True, owner=o["owner"],
                                description=o["description"],
                                location=o["location"] or o["watch"] or DEFAULT_LOCATION,
                                watch=o["watch"],
                                expected_arrival=_duration(problems, d, "expected_arrival",
                                                           o["expected_arrival"]),
                                where=d.where, subscribers=_subscribers(problems, d),
                                access=_access(problems, d, o.get("access"), "")))
            continue
        outputs = tuple(str(x) for x in _names(problems, d, "outputs", o["outputs"]))
        inputs = _inputs(_names(problems, d, "inputs", o["inputs"]))
        locations = o["locations"] or {}
        if not isinstance(locations, dict):
            problems.append(f"{d.where}: pipeline {d.name!r}: locations={locations!r} must map "
                            "outputs to paths, e.g. locations={'orders': 'data/orders/{partition}.csv'}")
            locations = {}
        for extra in sorted(set(locations) - set(outputs)):
            problems.append(f"{d.where}: pipeline {d.name!r}: locations names {extra!r}, which is "
                            f"not one of its outputs ({', '.join(outputs) or 'none'}); fix the name")
        for out in sorted(set(locations) & set(outputs)):
            place(d, f"locations[{out!r}]", locations[out], out, parts)
        subscribers = _subscribers(problems, d)
        access = o["access"] or {}  # output -> how to get access to it
        if not isinstance(access, dict) or set(access) - set(outputs):
            problems.append(f"{d.where}: pipeline {d.name!r}: access= must map its outputs to "
                            "how to get access, e.g. access={'OUTPUT': {'note': '...'}}")
            access = {}
        for out in outputs:
            assets.append(Asset(out, parts, owner=o["owner"], description=o["description"],
                                location=locations.get(out, DEFAULT_LOCATION), where=d.where,
                                subscribers=subscribers,
                                access=_access(problems, d, access.get(out), f" output {out!r}")))
        timeout = _duration(problems, d, "timeout", o["timeout"])
        pipes.append(Pipeline(
            d.name, inputs, outputs, parts, fn=d.fn, command=o["command"] or "",
            module=d.module, pool=o["pool"], slots=o["slots"], priority=o["priority"],
            deadline=_duration(problems, d, "deadline", o["deadline"]),
            expected_duration=_duration(problems, d, "expected_duration", o["expected_duration"]),
            retries=o["retries"],
            retry_delay=_or_default(_duration(problems, d, "retry_delay", o["retry_delay"]),
                                    parse_duration("10s")),
            timeout=timeout, max_concurrent=o["max_concurrent"],
            on_upstream_change=o["on_upstream_change"], on_cord=o["on_cord"],
            bad_outputs=o["bad_outputs"], owner=o["owner"],
            description=o["description"], where=d.where, subscribers=subscribers,
            env=_run_names(problems, d, "env"), secrets=_run_names(problems, d, "secrets"),
            uses=o["uses"], models=o["models"]))
    check_problems(problems, decls, {a.name for a in assets},
                   {m for p in pipes for m in p.models})
    # outputs are declared as assets by their pipeline; build_graph re-derives them, so pass
    # only sources here and keep output locations on the produced assets afterwards
    sources = [a for a in assets if a.source]
    pipes = resolve_serving(pipes, problems)  # andon.serving(MODEL) -> the model's artifact
    graph = build_graph(sources, pipes, pools, file, problems)
    produced = {a.name: a for a in assets if not a.source}
    graph.assets.update({name: produced[name] for name in graph.producer if name in produced})
    return replace(graph, data_roots=data_roots)


def _run_names(problems: list[str], decl: Declaration, option: str) -> tuple[str, ...]:
    names, problem = check_run_names(option, decl.options.get(option) or ())
    if problem:
        problems.append(f"{decl.where}: pipeline {decl.name!r}: {problem}")
    return names


def _access(problems: list[str], decl: Declaration, raw: object, of: str) -> Access | None:
    """How to get access to ``decl``'s data set (``of``: which output of a pipeline)."""
    if raw is None:
        return None
    access, problem = parse_access(raw)
    if problem:
        problems.append(f"{decl.where}: {decl.kind} {decl.name!r}{of}: {problem[0]}; "
                        f"{problem[1]}")
    return access


def _subscribers(problems: list[str], decl: Declaration) -> tuple[str, ...]:
    items = decl.options.get("subscribers") or ()
    if isinstance(items, str) or not isinstance(items, (list, tuple)) \
            or not all(isinstance(i, str) and i.strip() for i in items):
        problems.append(f"{decl.where}: {decl.kind} {decl.name!r}: subscribers={items!r} must be "
                        "a list of e-mail addresses or webhook names, e.g. "
                        "subscribers=['ops@example.com', 'data-alerts']")
        return ()
    return tuple(i.strip() for i in items)
