"""The project's grouping rules: ``[manual] rules`` in andon.toml, an array of tables
``{ pipeline = "name" or "*", match = "a message glob" or "re:REGEX", fingerprint = "name" }``.
The first rule whose pipeline and message match decides a failure's signature.

Read and checked when the project loads (``andon validate``): a bad regex, an unknown pipeline or
an invalid fingerprint name is an error naming the file, the line and the fix.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from andon.model.errors import ConfigError
from andon.model.limits import name_problem

MAX_RULES = 1000
MAX_MATCH = 1000  # characters of a rule's glob or regex
REGEX_PREFIX = "re:"
_KEYS = {"pipeline", "match", "fingerprint"}
_EXAMPLE = ('[[manual.rules]]\npipeline = "daily_sales"\nmatch = "re:timed out after \\\\d+s"\n'
            'fingerprint = "upstream_timeout"')


@dataclass(frozen=True)
class Rule:
    """One grouping rule: failures of ``pipeline`` (``*``: any) whose message matches ``match``
    (a glob on the whole message, or ``re:`` then a regex searched in it) are the problem named
    ``fingerprint``."""

    pipeline: str
    match: str
    fingerprint: str
    _regex: re.Pattern[str] = field(compare=False, repr=False)

    def matches(self, pipeline: str, message: str) -> bool:
        return self.pipeline in ("*", pipeline) and self._regex.search(message) is not None


def matching_rule(rules: Sequence[Rule], pipeline: str, message: str) -> Rule | None:
    """The first of ``rules`` matching a failure of ``pipeline`` with ``message``, or None."""
    return next((r for r in rules if r.matches(pipeline, message)), None)


def _where(file: Path, index: int, key: str) -> str:
    """``file:line`` of ``key`` in rule ``index`` (written as ``[[manual.rules]]`` tables), else
    of its header, else the file (rules written inline)."""
    try:
        lines = file.read_text(errors="replace").splitlines()
    except OSError:
        return str(file)
    headers = [n for n, text in enumerate(lines, 1) if text.strip() == "[[manual.rules]]"]
    if index >= len(headers):
        return str(file)
    for number in range(headers[index] + 1, len(lines) + 1):
        text = lines[number - 1].strip()
        if text.startswith("["):
            break
        if re.match(rf"{key}\s*=", text):
            return f"{file}:{number}"
    return f"{file}:{headers[index]}"


def _rule(raw: object, index: int, file: Path, pipelines: Collection[str]) -> Rule:
    def fail(problem: str, key: str, hint: str) -> ConfigError:
        return ConfigError(f"[manual] rule {index + 1}: {problem}",
                           where=_where(file, index, key), hint=hint)

    if not isinstance(raw, Mapping):
        raise fail(f"{str(raw)[:60]!r} is not a table", "", f"write each rule as\n{_EXAMPLE}")
    unknown = sorted(set(raw) - _KEYS)
    if unknown or not set(raw) >= {"match", "fingerprint"}:
        raise fail(f"has keys {sorted(raw)}", unknown[0] if unknown else "",
                   "a rule has match and fingerprint, and optionally pipeline (default *), e.g.\n"
                   + _EXAMPLE)
    pipeline, match, fingerprint = raw.get("pipeline", "*"), raw["match"], raw["fingerprint"]
    if not isinstance(pipeline, str) or (pipeline != "*" and pipeline not in pipelines):
        known = ", ".join(sorted(pipelines)[:20]) or "none"
        raise fail(f"pipeline {pipeline!r} is not a pipeline of the project", "pipeline",
                   f"name one of the project's pipelines ({known}), or * for any")
    problem = name_problem("fingerprint", fingerprint)
    if problem:
        raise fail(problem, "fingerprint", "fix the fingerprint name")
    if not isinstance(match, str) or not match or len(match) > MAX_MATCH:
        raise fail(f"match = {str(match)[:60]!r} must be a text of 1 to {MAX_MATCH} characters",
                   "match", 'write match = "*timed out*" (a glob) or "re:timed out after \\\\d+s"')
    if match.startswith(REGEX_PREFIX):
        try:
            regex = re.compile(match[len(REGEX_PREFIX):])
        except re.error as exc:
            raise fail(f"match = {match!r} is not a valid regular expression: {exc}", "match",
                       "fix the regular expression (Python syntax; backslashes doubled in a "
                       "TOML basic string, or use a 'literal string')") from None
    else:
        regex = re.compile(fnmatch.translate(match), re.DOTALL)
    return Rule(pipeline, match, str(fingerprint), regex)


def load_rules(config: Mapping[str, Any], root: Path, pipelines: Collection[str]) -> tuple[Rule, ...]:
    """The rules of ``[manual]`` in a loaded andon.toml (``config``) of the project at ``root``
    with ``pipelines``, checked; () when there is no ``[manual]``."""
    file = root / "andon.toml"
    table = config.get("manual", {})
    if not isinstance(table, Mapping) or set(table) - {"rules"}:
        raise ConfigError("[manual] must be a table holding only rules", where=str(file),
                          hint=f"write the rules as\n{_EXAMPLE}")
    raw = table.get("rules", [])
    if not isinstance(raw, list) or len(raw) > MAX_RULES:
        raise ConfigError(f"[manual] rules must be a list of at most {MAX_RULES} rules",
                          where=str(file), hint=f"write each rule as\n{_EXAMPLE}")
    return tuple(_rule(r, i, file, pipelines) for i, r in enumerate(raw))
