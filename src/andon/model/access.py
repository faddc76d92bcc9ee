"""How a data set says one gets access to it, and the form a request fills in.

A declaration (``Access``) is a ``link`` (where access is granted elsewhere), a ``note`` (what to
do), and/or a ``form``: the fields a request must answer, declared as JSON Schema. andon checks
forms with a validator of its own over a documented subset of JSON Schema (README, "Access
requests"): an object whose ``properties`` are strings, integers, numbers, booleans or arrays of
them, with ``required``, ``enum``, ``minLength``/``maxLength``, ``minimum``/``maximum``,
``pattern`` (a Python regular expression, searched as JSON Schema does), ``format`` (``date``,
``email``), ``items``, ``title`` and ``description``. Any other keyword is refused at load time
with the fix, so a form never silently means less than it says.

Pure functions over plain values: a schema problem is ``(what, fix)``; an answer problem is a
``BadRequest`` naming the field (``answers.NAME``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from andon.model.errors import BadRequest
from andon.model.limits import NAME_RE

MAX_TEXT = 2_000  # characters of a link, a note, a reason or a decision's note
MAX_FORM = 65_536  # characters of a form's schema as JSON
MAX_FIELDS = 100  # properties of a form
MAX_ANSWERS = 16_384  # characters of a request's answers as JSON
MAX_ANSWER = 10_000  # characters of one answer (a string without maxLength, or an array item)
MAX_PATTERN = 1_000  # characters of a pattern
MAX_DEPTH = 3  # the form, a property, an array's items
TYPES = ("object", "string", "integer", "number", "boolean", "array")
FORMATS = ("date", "email")
KEYWORDS = frozenset({"type", "properties", "required", "enum", "minLength", "maxLength",
                      "minimum", "maximum", "pattern", "format", "items", "title",
                      "description"})
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_FIX = ('declare the form as JSON Schema, e.g. form = { type = "object", required = '
        '["purpose"], properties = { purpose = { type = "string", maxLength = 500 } } }')


@dataclass(frozen=True)
class Access:
    """How to get access to a data set: ``link`` (a URL), ``note`` (free text) and ``form`` (a
    checked JSON Schema object, or None: a request then answers nothing but its reason). A data
    set without a declaration has no ``Access`` at all (None)."""

    link: str = ""
    note: str = ""
    form: Mapping[str, Any] | None = field(default=None, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {"link": self.link, "note": self.note,
                "form": None if self.form is None else dict(self.form)}

    def fields(self) -> list[dict[str, Any]]:
        """The form's fields in declared order, for a page to render: ``name``, ``type``,
        ``required`` and the field's own keywords."""
        if self.form is None:
            return []
        needed = set(self.form.get("required", ()))
        return [{"name": name, "required": name in needed, **prop}
                for name, prop in self.form.get("properties", {}).items()]


def parse_access(raw: Any) -> tuple[Access | None, tuple[str, str] | None]:
    """The declaration ``raw`` as written (a string: a URL is a link, else a note; or a table /
    dict with ``link``, ``note`` and ``form``): (the record, None), or (None, (what, fix))."""
    if isinstance(raw, str):
        text = raw.strip()
        problem = _text("access", text)
        if problem:
            return None, problem
        return (Access(link=text) if _is_url(text) else Access(note=text)), None
    if not isinstance(raw, Mapping):
        return None, (f"access = {_short(raw)} is neither a string nor a table",
                      'write access = "https://..." or access = { link = "https://...", '
                      'note = "...", form = { ... } }')
    unknown = sorted(set(raw) - {"link", "note", "form"})
    if unknown:
        return None, (f"access has unknown field(s) {', '.join(map(str, unknown))}",
                      "access takes link, note and form")
    link, note = raw.get("link", ""), raw.get("note", "")
    for name, value in (("link", link), ("note", note)):
        if not isinstance(value, str):
            return None, (f"access {name} = {_short(value)} is not a string",
                          f'write {name} = "..."')
        problem = _text(f"access {name}", value)
        if problem:
            return None, problem
    if link and not _is_url(link.strip()):
        return None, (f"access link {_short(link)} is not an http(s) URL",
                      'write link = "https://..." (or put the text in note)')
    form = raw.get("form")
    if form is not None:
        problem = schema_problem(form)
        if problem:
            return None, problem
    if not (link or note or form):
        return None, ("access declares neither a link, a note nor a form",
                      "say how to get access: a link, a note or a form")
    return Access(link.strip(), note.strip(), form), None


def schema_problem(schema: Any) -> tuple[str, str] | None:
    """Why ``schema`` is not a form andon can check (the subset of the module's docstring), as
    (what, fix); None when it is one."""
    if not isinstance(schema, Mapping) or schema.get("type") != "object":
        return "the access form must be a JSON Schema object (type = \"object\")", _FIX
    try:
        size = len(json.dumps(schema, default=str))
    except (TypeError, ValueError):
        return "the access form is not plain JSON data", _FIX
    if size > MAX_FORM:
        return f"the access form takes {size} characters, more than {MAX_FORM}", \
            "keep the form to a few fields with short descriptions"
    return _node(schema, "form", 1)


def _node(schema: Any, at: str, depth: int) -> tuple[str, str] | None:
    if not isinstance(schema, Mapping):
        return f"{at} is not a schema (a table of keywords)", _FIX
    unknown = sorted(set(schema) - KEYWORDS)
    if unknown:
        return (f"{at} uses {', '.join(map(str, unknown))}, which andon's form checker does not "
                "support", f"use only {', '.join(sorted(KEYWORDS))} (README, Access requests)")
    kind = schema.get("type")
    if kind not in TYPES:
        return f"{at} has type {_short(kind)}", f"give type, one of {', '.join(TYPES)}"
    for word in ("title", "description"):
        if word in schema and not isinstance(schema[word], str):
            return f"{at}.{word} is not a string", f'write {word} = "..."'
    for word in ("minLength", "maxLength"):
        if word in schema and (not _int(schema[word]) or schema[word] < 0):
            return f"{at}.{word} = {_short(schema[word])} is not a whole number >= 0", \
                f"write {word} = 500"
    for word in ("minimum", "maximum"):
        if word in schema and not _number(schema[word]):
            return f"{at}.{word} = {_short(schema[word])} is not a number", f"write {word} = 0"
    if "enum" in schema:
        enum = schema["enum"]
        if not isinstance(enum, list) or not enum or not all(
                isinstance(v, (str, int, float, bool)) for v in enum):
            return f"{at}.enum is not a non-empty list of values", 'write enum = ["a", "b"]'
    if "pattern" in schema:
        pattern = schema["pattern"]
        if not isinstance(pattern, str) or len(pattern) > MAX_PATTERN:
            return f"{at}.pattern is not a string of at most {MAX_PATTERN} characters", \
                'write pattern = "^[A-Z]{3}-[0-9]+$"'
        try:
            re.compile(pattern)
        except re.error as exc:
            return f"{at}.pattern {_short(pattern)} is not a regular expression: {exc}", \
                "fix the pattern (a Python regular expression)"
    if "format" in schema and schema["format"] not in FORMATS:
        return f"{at}.format {_short(schema['format'])} is not supported", \
            f"use format = one of {', '.join(FORMATS)}, or a pattern"
    if kind == "object":
        if depth > 1:
            return f"{at} is an object inside the form", "keep the form flat: one level of fields"
        props = schema.get("properties", {})
        if not isinstance(props, Mapping) or not props:
            return f"{at} has no properties (the form's fields)", _FIX
        if len(props) > MAX_FIELDS:
            return f"{at} has {len(props)} fields, more than {MAX_FIELDS}", "ask for fewer"
        for name, prop in props.items():
            if not isinstance(name, str) or not NAME_RE.fullmatch(name) or len(name) > 100:
                return f"{at} field {_short(name)} is not an identifier", \
                    "name fields with letters, digits, _ . and -"
            problem = _node(prop, f"{at}.properties.{name}", depth + 1)
            if problem:
                return problem
        required = schema.get("required", [])
        if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
            return f"{at}.required is not a list of field names", 'write required = ["purpose"]'
        missing = [r for r in required if r not in props]
        if missing:
            return f"{at}.required names {', '.join(missing)}, not among its properties", \
                "declare each required field under properties"
    elif "properties" in schema or "required" in schema:
        return f"{at} has properties but type {kind!r}", "only the form itself is an object"
    if kind == "array":
        if depth > MAX_DEPTH - 1 or "items" not in schema:
            return f"{at} (an array) needs items, a schema of its elements", \
                'write items = { type = "string" }'
        items = schema["items"]
        if isinstance(items, Mapping) and items.get("type") in ("object", "array"):
            return f"{at}.items is a {items['type']}", "arrays hold strings, numbers or booleans"
        return _node(items, f"{at}.items", depth + 1)
    if "items" in schema:
        return f"{at} has items but type {kind!r}", "only an array has items"
    return None


def check_answers(form: Mapping[str, Any] | None, answers: Any) -> dict[str, Any]:
    """``answers`` checked against ``form`` (None: nothing may be answered); the answers as
    they are stored. BadRequest naming the field (``answers`` or ``answers.NAME``) for anything
    unknown, missing, mistyped or out of bounds."""
    if answers is None:
        answers = {}
    if not isinstance(answers, Mapping):
        raise BadRequest("field 'answers' must be an object of the form's fields",
                         where="answers", hint="send answers as {\"field\": value}")
    try:
        size = len(json.dumps(answers))
    except (TypeError, ValueError):
        raise BadRequest("field 'answers' holds values that are not JSON", where="answers",
                         hint="answer with strings, numbers and booleans") from None
    if size > MAX_ANSWERS:
        raise BadRequest(f"field 'answers' takes {size} characters, more than {MAX_ANSWERS}",
                         where="answers", hint="answer briefly; link to longer documents")
    props = dict(form.get("properties", {})) if form else {}
    unknown = sorted(str(k) for k in answers if k not in props)
    if unknown:
        raise BadRequest(f"the form has no field {unknown[0][:100]!r}",
                         where=f"answers.{unknown[0][:100]}",
                         hint=("its fields: " + ", ".join(props)) if props else
                         "this data set's access form asks nothing: send no answers")
    answers = {k: _from_text(props[k], v) for k, v in answers.items()}
    for name in (form or {}).get("required", []):
        if name not in answers or answers[name] in ("", None):
            raise BadRequest(f"field 'answers.{name}' is required", where=f"answers.{name}",
                             hint=_describe(name, props[name]))
    for name, value in answers.items():
        if value is None:
            continue
        problem = _value_problem(props[name], value)
        if problem:
            raise BadRequest(f"field 'answers.{name}' {problem}", where=f"answers.{name}",
                             hint=_describe(name, props[name]))
    return {k: v for k, v in answers.items() if v is not None}


def _from_text(schema: Mapping[str, Any], value: Any) -> Any:
    """An answer given as text (the command line's KEY=VALUE, a form of the board) to a field
    that is not a string: as the field's type when it reads as one (else left for the check
    to refuse). An empty text is no answer."""
    if not isinstance(value, str) or schema["type"] == "string":
        return value
    text = value.strip()
    if not text:
        return None
    kind = schema["type"]
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            return float(text)
    except ValueError:
        return value
    if kind == "boolean" and text.lower() in ("true", "false", "yes", "no", "on", "off"):
        return text.lower() in ("true", "yes", "on")
    if kind == "array":
        return [_from_text(schema["items"], item.strip()) for item in text.split(",")]
    return value


def _value_problem(schema: Mapping[str, Any], value: Any) -> str | None:
    kind = schema["type"]
    if kind == "string":
        if not isinstance(value, str):
            return "must be a string"
        top = schema.get("maxLength", MAX_ANSWER)
        if len(value) > min(top, MAX_ANSWER):
            return f"must be at most {min(top, MAX_ANSWER)} characters"
        if len(value) < schema.get("minLength", 0):
            return f"must be at least {schema['minLength']} characters"
        if "pattern" in schema and not re.search(schema["pattern"], value):
            return f"must match {schema['pattern']!r}"
        fmt = schema.get("format")
        if fmt == "date" and not _is_date(value):
            return "must be a date (YYYY-MM-DD)"
        if fmt == "email" and not _EMAIL.fullmatch(value):
            return "must be an e-mail address"
    elif kind == "integer" and not _int(value):
        return "must be a whole number"
    elif kind == "number" and not _number(value):
        return "must be a number"
    elif kind == "boolean" and not isinstance(value, bool):
        return "must be true or false"
    elif kind == "array":
        if not isinstance(value, list):
            return "must be a list"
        for item in value:
            problem = _value_problem(schema["items"], item)
            if problem:
                return f"holds an item that {problem}"
    if kind in ("integer", "number"):
        if "minimum" in schema and value < schema["minimum"]:
            return f"must be at least {schema['minimum']}"
        if "maximum" in schema and value > schema["maximum"]:
            return f"must be at most {schema['maximum']}"
    if "enum" in schema and value not in schema["enum"]:
        return "must be one of " + ", ".join(map(str, schema["enum"]))
    return None


def _describe(name: str, schema: Mapping[str, Any]) -> str:
    what = schema.get("description") or schema.get("title") or f"a {schema['type']}"
    return f"{name}: {what}"


def _text(label: str, value: str) -> tuple[str, str] | None:
    if len(value) > MAX_TEXT:
        return f"{label} is longer than {MAX_TEXT} characters", "link to longer text instead"
    return None


def _is_url(text: str) -> bool:
    return text.startswith(("https://", "http://")) and " " not in text


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:60] + f"... ({len(text)} characters)"


def expires_at(until: str) -> datetime:
    """The moment access granted ``until`` a date (YYYY-MM-DD) ends: that date is the last day
    of access, so it ends at the following midnight, UTC."""
    return datetime.combine(date.fromisoformat(until), time(), UTC) + timedelta(days=1)
