"""The entries a project declares: models, services, libraries and external data sets, one
``[[entries]]`` table each in its ``catalog.toml`` and one ``andon.catalog(...)`` call each in
its definitions, and those declared through the API (the same fields, checked by the same
``entry_of``); and the pipelines'
``uses=`` and ``models=``, which must name them.

Everything wrong is found at load time (``andon validate``, exit 2), each problem with the file,
the line (of its ``[[entries]]`` header, or of the call), the entry and the fix."""

from __future__ import annotations

import functools
import re
import stat
import tomllib
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from andon.model.access import parse_access
from andon.model.errors import ConfigError
from andon.model.graph import Graph
from andon.model.lifecycle import LIFECYCLES
from andon.model.limits import name_problem
from andon.model.words import did_you_mean
from andon.registry.entries import DECLARED_KINDS, DEPLOYS, MAX_GATE_PARTITIONS, Entry, Gate

CATALOG_FILE = "catalog.toml"
MAX_TEXT = 10_000  # the longest owner, description, team or access note (characters)
MAX_FILE = 256 * 2**20  # bytes of catalog.toml: a large company's 100,000 entries take ~30 MB
MAX_TAGS, MAX_TAG = 50, 100  # tags per entry, characters per tag
MAX_LINKS, MAX_LINK = 20, 2_000  # links per entry, characters per link name or URL
FIELDS = ("kind", "name", "owner", "description", "tags", "team", "links", "lifecycle", "access",
          "deploy", "gate")
_HEADER = re.compile(rb"^[ \t]*\[\[[ \t]*entries[ \t]*\]\]", re.M)
CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # control characters: never in a name or a one-line text
_SPLIT = re.compile(r"^\[\[entries\]\][ \t]*\r?\n", re.M)  # a table's header, alone on its line
_TEXT = r'"[^"\\\x00-\x1f\x7f]*"'  # a basic string without escapes or control characters
_QUOTED = re.compile(r'"([^"\\\x00-\x1f\x7f]*)"')
_SIMPLE = re.compile(rf'[ \t]*([A-Za-z0-9_-]+)[ \t]*=[ \t]*(?:"([^"\\\x00-\x1f\x7f]*)"|'
                     rf'(\[[ \t]*(?:{_TEXT}[ \t]*,[ \t]*)*(?:{_TEXT}[ \t]*)?\]))[ \t]*')
_EXAMPLE = ('[[entries]]\nkind = "model"\nname = "churn"\nowner = "ml@example.com"\n'
            'description = "who is about to leave"\ntags = ["ml"]')


def load_declared(root: Path, graph: Graph | None = None) -> list[Entry]:
    """The entries ``graph``'s definitions declare (``andon.catalog(...)``), then those of
    ``root/catalog.toml`` (none without one). ConfigError naming the file, line, entry and fix
    for: invalid TOML, an unknown kind or field, a missing name or owner, a duplicate name within
    a kind (also against ``graph``'s data sets), a malformed date; and for a pipeline whose
    ``uses=`` or ``models=`` names no such entry, or a model two pipelines declare they make."""
    # where each name was taken: the file and line, found only for a duplicate (a fast load
    # stays one)
    taken: dict[tuple[str, str], Callable[[], str]] = {}
    if graph is not None:
        taken.update({("dataset", a.name): functools.partial(str, a.where or "the definitions")
                      for a in graph.assets.values()})
    problems: list[tuple[str, str, str]] = []  # (where, what, fix)
    entries: list[Entry] = []
    for index, decl in enumerate(graph.declared if graph is not None else ()):
        _add(decl.table, index, decl.where, functools.partial(_at, decl.where), taken, entries,
             problems)
    file = str(root / CATALOG_FILE)
    for index, (item, where) in enumerate(_file_tables(root)):
        _add(item, index, file, where, taken, entries, problems)
    if graph is not None and not problems:
        problems += _relation_problems(graph, entries)
    if problems:
        _refuse(problems)
    return entries


def _add(item: Any, index: int, file: str, where: Callable[[int], str],
         taken: dict[tuple[str, str], Callable[[], str]], entries: list[Entry],
         problems: list[tuple[str, str, str]]) -> None:
    """Keep the entry of ``item`` (``entry_of``), or record its problem or a duplicate name."""
    try:
        entry = entry_of(item, index, file)
    except EntryProblem as bad:
        problems.append((where(index), bad.what, bad.fix))
        return
    if entry.key in taken:
        problems.append((where(index), f"{entry.kind} {entry.name!r} is declared twice (also "
                         f"at {taken[entry.key]()})", "give one of them another name, or "
                         "remove the copy"))
        return
    taken[entry.key] = functools.partial(where, index)
    entries.append(entry)


def _at(where: str, _index: int) -> str:
    return where


def _file_tables(root: Path) -> list[tuple[Any, Callable[[int], str]]]:
    """The ``[[entries]]`` tables of ``root/catalog.toml`` (none without one), each with the
    function that names where the index-th one is (``file:line``, counted only when asked: a
    load without problems stays fast)."""
    path = root / CATALOG_FILE
    try:
        info = path.stat()
    except FileNotFoundError:
        return []
    # never opened unless a regular file inside the project: a FIFO would hang the load
    if not stat.S_ISREG(info.st_mode) or not path.resolve().is_relative_to(root.resolve()):
        raise ConfigError(f"{CATALOG_FILE} is not a regular file inside the project",
                          where=str(path), hint="make it a plain file in the project folder "
                                                "(not a FIFO, a device or a link out of it)")
    if info.st_size > MAX_FILE:
        raise ConfigError(f"{CATALOG_FILE} holds {info.st_size} bytes, more than {MAX_FILE}",
                          where=str(path), hint="split the catalog or shorten its descriptions")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
        fast = _simple_tables(text)
        data = {"entries": fast} if fast is not None else tomllib.loads(text)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        line = re.search(r"at line (\d+)", str(exc))
        raise ConfigError(f"{CATALOG_FILE} is not valid TOML: {exc}",
                          where=f"{path}:{line.group(1)}" if line else str(path),
                          hint="fix the syntax at the line shown (https://toml.io)") from None
    extra = sorted(set(data) - {"entries"})
    items = data.get("entries", [])
    if extra or not isinstance(items, list):
        raise ConfigError(f"{CATALOG_FILE} holds {', '.join(extra) or 'entries'} that is not "
                          "an array of [[entries]] tables", where=str(path),
                          hint=f"declare each entry as a table, e.g.\n{_EXAMPLE}")
    lines: list[int] = []

    def where(index: int) -> str:
        if not lines:
            lines.extend(raw.count(b"\n", 0, m.start()) + 1 for m in _HEADER.finditer(raw))
        return f"{path}:{lines[index]}" if index < len(lines) else str(path)

    return [(item, where) for item in items]


def _relation_problems(graph: Graph, entries: list[Entry]) -> list[tuple[str, str, str]]:
    """A pipeline's ``uses=`` names a service or library, its ``models=`` a model, of the
    catalog; one pipeline makes each model."""
    known: dict[str, set[str]] = {}
    for entry in entries:
        known.setdefault(entry.kind, set()).add(entry.name)
    usable = known.get("service", set()) | known.get("library", set())
    problems = []
    maker: dict[str, str] = {}
    for pipe in graph.pipelines.values():
        for field, names, kinds in (("uses", pipe.uses, usable),
                                    ("models", pipe.models, known.get("model", set()))):
            what = "service or library" if field == "uses" else "model"
            for name in names:
                if name not in kinds:
                    close = did_you_mean(name, kinds).strip()
                    problems.append((pipe.where, f"pipeline {pipe.name!r}: {field}= names "
                                     f"{name!r}, which is no {what} of the catalog"
                                     + (f"; {close}" if close else ""),
                                     f"known: {_listing(kinds)}; declare it in {CATALOG_FILE} or "
                                     f"with andon.catalog(kind=\"{what.split()[-1]}\", ...)"))
        for name in pipe.models:
            if name in maker:
                problems.append((pipe.where, f"pipeline {pipe.name!r} declares it makes model "
                                 f"{name!r}, which pipeline {maker[name]!r} makes", "each model "
                                 "has one producer: declare it on one of them (the other may "
                                 "read the model's data set)"))
            maker.setdefault(name, pipe.name)
    return problems


def _listing(names: set[str], most: int = 20) -> str:
    ordered = sorted(names)
    text = ", ".join(ordered[:most]) or "none"
    return text + (f" and {len(ordered) - most} more" if len(ordered) > most else "")


def _refuse(problems: list[tuple[str, str, str]]) -> None:
    if len(problems) == 1:
        ((where, what, fix),) = problems
        raise ConfigError(what, where=where, hint=fix)
    listed = "\n  - ".join(f"{where}: {what}; {fix}" for where, what, fix in problems[:50])
    more = f"\n  - ... and {len(problems) - 50} more" if len(problems) > 50 else ""
    source = CATALOG_FILE if all(CATALOG_FILE in where for where, _, _ in problems) \
        else "the catalog"
    raise ConfigError(f"{len(problems)} problem(s) in {source}:\n  - {listed}{more}",
                      where=problems[0][0], hint="fix each listed entry and run `andon validate` "
                                                 "again")


class EntryProblem(ValueError):
    """What is wrong with one entry's table: the ``field`` at fault ("" for the table as a
    whole), ``what`` (a sentence naming the entry) and ``fix``."""

    def __init__(self, field: str, what: str, fix: str) -> None:
        super().__init__(what)
        self.field, self.what, self.fix = field, what, fix


def entry_of(item: Any, index: int = 0, file: str = "") -> Entry:
    """The entry of one ``[[entries]]`` table (the ``index``-th of ``file``; or one declared
    through the API, with ``file`` saying so): the one check of an entry's fields, whichever
    door it came in by. EntryProblem naming the field otherwise."""
    if not isinstance(item, Mapping):
        raise EntryProblem("", f"entry {index + 1} is not a table", f"write it as\n{_EXAMPLE}")
    name = item.get("name")
    label = (f"entry {_short(name)}" if isinstance(name, str) and name.strip()
             else f"entry {index + 1}")
    unknown = sorted(set(item) - set(FIELDS))
    if unknown:
        raise EntryProblem(unknown[0], f"{label} has unknown field(s) {', '.join(unknown)}",
                           f"use only {', '.join(FIELDS)}")
    kind = item.get("kind")
    if kind not in DECLARED_KINDS:
        hint = ("pipelines come from the definitions; declare it there" if kind == "pipeline"
                else f"kind is one of {', '.join(DECLARED_KINDS)}")
        raise EntryProblem("kind", f"{label} has kind {_short(kind)}, which is not a kind of "
                           "entry", hint)
    for field in ("name", "owner"):
        value = item.get(field)
        if not isinstance(value, str) or not value.strip():
            raise EntryProblem(field, f"{label} ({kind}) has no {field}",
                               f"add {field} = \"...\" (a non-empty string)")
    named = name_problem(kind, item["name"].strip())
    if named is not None:
        raise EntryProblem("name", f"{label}: {named}",
                           "names are identifiers: they become URL segments")
    texts = {f: item.get(f, "") for f in ("name", "owner", "description", "team")}
    for field, value in texts.items():
        if not isinstance(value, str):
            raise EntryProblem(field, f"{label} ({kind}): {field} = {_short(value)} is not a "
                               "string", f"write {field} = \"...\"")
        if len(value) > MAX_TEXT or (field != "description" and CONTROL.search(value)):
            raise EntryProblem(field, f"{label} ({kind}): {field} is longer than {MAX_TEXT} "
                               "characters or holds control characters",
                               f"shorten {field} to one line")
    tags = item.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags):
        raise EntryProblem("tags", f"{label} ({kind}): tags = {_short(tags)} is not a list of "
                           "words", "write tags = [\"sales\", \"daily\"]")
    if len(tags) > MAX_TAGS or any(len(t) > MAX_TAG for t in tags) or \
            CONTROL.search("".join(tags)):
        raise EntryProblem("tags", f"{label} ({kind}): more than {MAX_TAGS} tags, or a tag "
                           f"longer than {MAX_TAG} characters or holding control characters",
                           "keep tags to a few short words")
    links = item.get("links", {})
    if not isinstance(links, Mapping) or not all(isinstance(v, str) for v in links.values()):
        raise EntryProblem("links", f"{label} ({kind}): links = {_short(links)} is not a table "
                           "of URLs", "write links = { code = \"https://...\", docs = "
                                      "\"https://...\" }")
    if len(links) > MAX_LINKS or any(len(k) > MAX_LINK or len(v) > MAX_LINK
                                     for k, v in links.items()):
        raise EntryProblem("links", f"{label} ({kind}): more than {MAX_LINKS} links, or a link "
                           f"longer than {MAX_LINK} characters",
                           "link the code, the docs and a dashboard")
    lifecycle, since, problem = _lifecycle(item.get("lifecycle", "active"))
    if problem:
        raise EntryProblem("lifecycle", f"{label} ({kind}): {problem[0]}", problem[1])
    access = None
    if item.get("access") not in (None, ""):
        access, problem = parse_access(item["access"])
        if problem:
            raise EntryProblem("access", f"{label} ({kind}): {problem[0]}", problem[1])
    deploy = item.get("deploy", "manual")
    if deploy not in DEPLOYS or (kind != "model" and "deploy" in item):
        raise EntryProblem("deploy", f"{label} ({kind}): deploy = {_short(deploy)} is not a "
                           "model's deploy policy", "only a model has one: deploy = \"manual\" "
                           "(a person promotes a version, the default) or deploy = \"auto\" "
                           "(every new version is promoted)")
    gate = None
    if "gate" in item:
        gate, problem = _gate(item["gate"], kind, deploy)
        if problem:
            raise EntryProblem("gate", f"{label} ({kind}): {problem[0]}", problem[1])
    return Entry(kind, texts["name"].strip(), texts["owner"].strip(), texts["description"],
                 tuple(t.strip() for t in tags), texts["team"],
                 tuple((str(k), v) for k, v in links.items()), lifecycle, since,
                 access, where=file, declared=True, deploy=deploy, gate=gate)


_GATE_EXAMPLE = 'gate = { metric = "auc", tolerance = 0.01, partitions = 3, drift = true }'


def _gate(value: Any, kind: str, deploy: str) -> tuple[Gate | None, tuple[str, str] | None]:
    """A model's ``gate`` table, or the problem with it (what, fix)."""
    if kind != "model" or deploy != "auto":
        return None, ("a gate holds back automatic promotions, so only a model with "
                      "deploy = \"auto\" has one", 'set deploy = "auto", or remove the gate')
    if not isinstance(value, Mapping) or set(value) - {"metric", "tolerance", "partitions",
                                                       "drift"}:
        return None, (f"gate = {_short(value)} is not a table of metric, tolerance, partitions "
                      "and drift", f"write {_GATE_EXAMPLE}")
    metric, tolerance = value.get("metric"), value.get("tolerance", 0.0)
    partitions, drift = value.get("partitions", 3), value.get("drift", True)
    if name_problem("metric", metric) is not None:
        return None, (f"the gate's metric {_short(metric)} is not a metric's name",
                      "name a metric of the model's andon.performance, e.g. metric = \"auc\"")
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or \
            not 0 <= tolerance < float("inf"):
        return None, (f"the gate's tolerance {_short(tolerance)} is not a number >= 0",
                      "how much worse than the serving version a new one may score, "
                      "e.g. tolerance = 0.01")
    if isinstance(partitions, bool) or not isinstance(partitions, int) or \
            not 1 <= partitions <= MAX_GATE_PARTITIONS:
        return None, (f"the gate's partitions {_short(partitions)} is not a whole number from "
                      f"1 to {MAX_GATE_PARTITIONS}", "how many shadow-scored partitions to "
                      "compare on, e.g. partitions = 3")
    if not isinstance(drift, bool):
        return None, (f"the gate's drift {_short(drift)} is not true or false",
                      "drift = true holds back a version whose data drifted red")
    return Gate(str(metric), float(tolerance), partitions, drift), None


def _simple_tables(text: str) -> list[dict[str, Any]] | None:
    """The ``[[entries]]`` tables of ``text`` read faster than by ``tomllib`` (5 s for 100,000
    entries): a line ``key = "text"`` or ``key = ["text", ...]`` (no escape, no comment after
    it) is read by one regular expression; a table with any other line is read by ``tomllib``
    alone. None when the file is not only ``[[entries]]`` tables, or a table does not read:
    then ``tomllib`` reads the whole file, and reports what is wrong where."""
    first, *chunks = _SPLIT.split(text)
    if any(s.strip() and not s.lstrip().startswith("#") for s in first.split("\n")):
        return None
    tables: list[dict[str, Any]] = []
    for chunk in chunks:
        table: dict[str, Any] = {}
        for line in chunk.split("\n"):
            m = _SIMPLE.fullmatch(line.removesuffix("\r"))
            if m is None:
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                try:  # a table the expression cannot read, e.g. with a sub-table or a date
                    data = tomllib.loads("[[entries]]\n" + chunk)
                except tomllib.TOMLDecodeError:
                    return None
                if list(data) != ["entries"] or len(data["entries"]) != 1:
                    return None
                table = data["entries"][0]
                break
            key, text_value, listed = m.groups()
            if key in table:
                return None  # a key defined twice: tomllib says where
            table[key] = text_value if listed is None else _QUOTED.findall(listed)
        tables.append(table)
    return tables


def _short(value: object) -> str:
    """``value`` as its repr, cut for a message."""
    text = repr(value)
    return text if len(text) <= 80 else text[:60] + f"... ({len(text)} characters)"


def _lifecycle(raw: Any) -> tuple[str, date | None, tuple[str, str] | None]:
    """``"beta"`` or ``{ state = "deprecated", date = 2027-01-31 }`` (a TOML date or an ISO
    string): the state, its date and, if malformed, (what, fix)."""
    fix = ('write lifecycle = "active" (or "beta"), or lifecycle = { state = "deprecated", '
           'date = 2027-01-31 }')
    state, when = (raw, None) if isinstance(raw, str) else \
        (raw.get("state"), raw.get("date")) if isinstance(raw, Mapping) else (None, None)
    if isinstance(raw, Mapping) and set(raw) - {"state", "date"}:
        unknown = ", ".join(sorted(set(raw) - {"state", "date"}))
        return "", None, (f"lifecycle has unknown field(s) {unknown}", fix)
    if state not in LIFECYCLES:
        return "", None, (f"lifecycle {state!r} is not one of {', '.join(LIFECYCLES)}", fix)
    if isinstance(when, str):
        try:
            when = date.fromisoformat(when)
        except ValueError:
            return "", None, (f"lifecycle date {when!r} is not a date", "write the date as "
                              "YYYY-MM-DD, e.g. date = 2027-01-31")
    if when is not None and (not isinstance(when, date) or hasattr(when, "hour")):
        return "", None, (f"lifecycle date {when!r} is not a date", "write the date as "
                          "YYYY-MM-DD, e.g. date = 2027-01-31")
    if state == "deprecated" and when is None:
        return "", None, ("a deprecated entry needs the date it is (or was) retired",
                          'write lifecycle = { state = "deprecated", date = 2027-01-31 }')
    return str(state), when, None
