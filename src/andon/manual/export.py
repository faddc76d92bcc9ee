"""The manual as documents to read offline or commit: an index and one document per entry, in
Markdown (as GitHub renders it) or self-contained HTML (inline style, no script, nothing fetched;
every text escaped by Jinja2's autoescape).

Pure: ``markdown`` and ``html`` give ``{file name: text}``; the caller writes the files. A file
is named by its entry's id (``filename``), the index ``index.md`` / ``index.html``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from jinja2 import DictLoader, Environment, StrictUndefined

from andon.manual.entries import KINDS, ManualEntry
from andon.manual.views import entry_json

FORMATS = ("markdown", "html")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
# what Markdown would read as markup within a line (every text goes after a line's start): escaped
# with a backslash
_MARKUP = re.compile(r"([\\`*_\[\]|~])")


def filename(entry_id: str, suffix: str) -> str:
    """The file of an entry: its id with anything but letters, digits, ``_ . -`` as ``_`` (at
    most 100 characters), never starting with a dot, then ``suffix``."""
    name = _UNSAFE.sub("_", entry_id)[:100].lstrip(".") or "_"
    return f"{name}{suffix}"


def _names(entries: Sequence[ManualEntry], suffix: str) -> dict[str, str]:
    """Entry id -> its file name, unique: a second id that reads the same gets ``-2`` and on."""
    names: dict[str, str] = {}
    taken = {f"index{suffix}"}
    for e in entries:
        name, n = filename(e.id, suffix), 1
        while name in taken:
            n += 1
            name = filename(e.id, f"-{n}{suffix}")
        taken.add(name)
        names[e.id] = name
    return names


def _by_kind(entries: Sequence[ManualEntry]) -> list[tuple[str, list[ManualEntry]]]:
    """The entries by kind, in the manual's order of kinds (unknown kinds last), each kind's
    entries as given (newest first)."""
    order = {k: i for i, k in enumerate(KINDS)}
    kinds = sorted({e.kind for e in entries}, key=lambda k: (order.get(k, len(order)), k))
    return [(k, [e for e in entries if e.kind == k]) for k in kinds]


def safe_link(url: str) -> str:
    """``url`` when it is an http(s) link, else "" (a ``javascript:`` link is never a link)."""
    return url if re.match(r"https?://[^\s<>\"']+\Z", url, re.I) else ""


# -- Markdown ------------------------------------------------------------------------------------


def md(text: str) -> str:
    """``text`` as Markdown shows it literally: one line, markup characters escaped, ``<`` and
    ``&`` as entities (GitHub renders raw HTML)."""
    one_line = " ".join(str(text).split())
    return _MARKUP.sub(r"\\\1", one_line.replace("&", "&amp;").replace("<", "&lt;"))


def _md_link(text: str, url: str) -> str:
    url = safe_link(url)
    if not url:
        return md(text)
    return f"[{md(text)}]({url.replace('(', '%28').replace(')', '%29')})"


def _md_entry(e: ManualEntry) -> str:
    j = entry_json(e)
    lines = [f"# {md(e.title)}", "", "[Back to the manual](index.md)", "",
             f"- **Entry:** `{e.id}`" if "`" not in e.id else f"- **Entry:** {md(e.id)}",
             f"- **Kind:** {md(e.kind)}",
             f"- **Pipelines:** {md(', '.join(e.pipelines)) or '-'}",
             f"- **Assets:** {md(', '.join(e.assets)) or '-'}",
             f"- **Seen:** {len(e.occurrences)} times, first {md(e.first_seen)}, "
             f"last {md(e.last_seen)}"]
    if e.regression:
        lines.append("- **Regression:** it came back after its fix, from code as new")
    if e.error_type:
        where = f" in {md(e.file)} {md(e.function)}" if e.file else ""
        lines.append(f"- **Error:** {md(e.error_type)}{where}")
    for name, label in (("time_to_detect_seconds", "Time to detect"),
                        ("time_to_recover_seconds", "Time to recover")):
        if j[name] is not None:
            lines.append(f"- **{label}:** {j[name]:.0f} s on average")
    if e.consumers:
        lines.append(f"- **Consumers reached:** {md(', '.join(e.consumers))}")
    lines += ["", "## Resolutions", ""]
    if not e.resolutions:
        lines.append("None yet.")
    for r in reversed(e.resolutions):
        extra = [_md_link(r.link, r.link)] if safe_link(r.link) else []
        extra += [f"commit {md(r.commit)}"] if r.commit else []
        lines.append(f"- {md(r.at)} by {md(r.by or '-')}: {md(r.note)}"
                     + (f" ({', '.join(extra)})" if extra else ""))
    lines += ["", "## Occurrences", "", "| At | Pipeline | Partition | Run | Code |",
              "|---|---|---|---|---|"]
    for o in reversed(e.occurrences):
        what = o.run_id or o.cord_id or o.check
        code = o.commit[:12] or o.code_version[:12]
        lines.append(f"| {md(o.at)} | {md(o.pipeline or o.asset)} | {md(o.partition)} | "
                     f"{md(what)} | {md(code)}{' (regression)' if o.regression else ''} |")
    if e.partitions:
        lines += ["", "## Partitions affected", ""]
        lines += [f"- {md(p)}" for p in e.partitions]
    return "\n".join(lines) + "\n"


def markdown(entries: Sequence[ManualEntry], generated: str = "") -> dict[str, str]:
    """The manual in Markdown: ``index.md`` (the entries by kind, newest first, each linked) and
    one ``ID.md`` per entry. ``generated``: when (ISO), said in the index."""
    names = _names(entries, ".md")
    lines = ["# Operations manual", ""]
    if generated:
        lines += [f"Exported {md(generated)}.", ""]
    if not entries:
        lines.append("No problem recorded yet.")
    for kind, group in _by_kind(entries):
        lines += [f"## {md(kind)}", "", "| Entry | Pipelines | Seen | First | Last | Fixed |",
                  "|---|---|---|---|---|---|"]
        for e in group:
            fixed = "regression" if e.regression else "yes" if e.resolutions else "no"
            lines.append(f"| [{md(e.title)}]({names[e.id]}) | {md(', '.join(e.pipelines))} | "
                         f"{len(e.occurrences)} | {md(e.first_seen)} | {md(e.last_seen)} | "
                         f"{fixed} |")
        lines.append("")
    out = {"index.md": "\n".join(lines).rstrip("\n") + "\n"}
    out.update({names[e.id]: _md_entry(e) for e in entries})
    return out


# -- HTML ----------------------------------------------------------------------------------------

_STYLE = """body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;
color:#1b1f24}table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}
th,td{border-bottom:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}code{font-size:90%}.reg{color:#b3261e;font-weight:600}
dt{font-weight:600}dd{margin:0 0 .4rem 0}"""

_TEMPLATES = {
    "base.html": """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{% block title %}{% endblock %}</title><style>{{ style }}</style></head>
<body>{% block body %}{% endblock %}</body></html>
""",
    "index.html": """{% extends "base.html" %}{% block title %}Operations manual{% endblock %}
{% block body %}<h1>Operations manual</h1>
{% if generated %}<p>Exported {{ generated }}.</p>{% endif %}
{% if not groups %}<p>No problem recorded yet.</p>{% endif %}
{% for kind, group in groups %}<h2>{{ kind }}</h2>
<table><thead><tr><th>Entry</th><th>Pipelines</th><th>Seen</th><th>First</th><th>Last</th>
<th>Fixed</th></tr></thead><tbody>
{% for e in group %}<tr><td><a href="{{ names[e.id] }}">{{ e.title }}</a></td>
<td>{{ e.pipelines|join(", ") }}</td><td>{{ e.occurrences|length }}</td>
<td>{{ e.first_seen }}</td><td>{{ e.last_seen }}</td>
<td>{% if e.regression %}<span class="reg">regression</span>{% elif e.resolutions %}yes
{%- else %}no{% endif %}</td></tr>
{% endfor %}</tbody></table>
{% endfor %}{% endblock %}
""",
    "entry.html": """{% extends "base.html" %}{% block title %}{{ e.title }}{% endblock %}
{% block body %}<p><a href="index.html">Back to the manual</a></p>
<h1>{{ e.title }}</h1>
<dl><dt>Entry</dt><dd><code>{{ e.id }}</code></dd><dt>Kind</dt><dd>{{ e.kind }}</dd>
<dt>Pipelines</dt><dd>{{ e.pipelines|join(", ") or "-" }}</dd>
<dt>Assets</dt><dd>{{ e.assets|join(", ") or "-" }}</dd>
<dt>Seen</dt><dd>{{ e.count }} times, first {{ e.first_seen }}, last {{ e.last_seen }}</dd>
{% if e.regression %}<dt>Regression</dt><dd class="reg">it came back after its fix, from code
as new</dd>{% endif %}
{% if e.error_type %}<dt>Error</dt><dd>{{ e.error_type }}{% if e.file %} in
<code>{{ e.file }}</code> {{ e.function }}{% endif %}</dd>{% endif %}
{% if e.time_to_detect_seconds is not none %}<dt>Time to detect</dt>
<dd>{{ "%.0f"|format(e.time_to_detect_seconds) }} s on average</dd>{% endif %}
{% if e.time_to_recover_seconds is not none %}<dt>Time to recover</dt>
<dd>{{ "%.0f"|format(e.time_to_recover_seconds) }} s on average</dd>{% endif %}
{% if e.consumers %}<dt>Consumers reached</dt><dd>{{ e.consumers|join(", ") }}</dd>{% endif %}
</dl>
<h2>Resolutions</h2>
{% if not e.resolutions %}<p>None yet.</p>{% endif %}<ul>
{% for r in e.resolutions|reverse %}<li>{{ r.at }} by {{ r.by or "-" }}: {{ r.note }}
{%- if r.safe_link %} (<a href="{{ r.safe_link }}" rel="noopener noreferrer">{{ r.link }}</a>)
{%- endif %}{% if r.commit %} commit <code>{{ r.commit }}</code>{% endif %}</li>
{% endfor %}</ul>
<h2>Occurrences</h2>
<table><thead><tr><th>At</th><th>Pipeline</th><th>Partition</th><th>Run</th><th>Code</th>
</tr></thead><tbody>
{% for o in e.occurrences|reverse %}<tr><td>{{ o.at }}</td><td>{{ o.pipeline or o.asset }}</td>
<td>{{ o.partition }}</td><td>{{ o.run_id or o.cord_id or o.check }}</td>
<td><code>{{ (o.commit or o.code_version)[:12] }}</code>{% if o.regression %}
<span class="reg">regression</span>{% endif %}</td></tr>
{% endfor %}</tbody></table>
{% if e.partitions %}<h2>Partitions affected</h2><ul>
{% for p in e.partitions %}<li>{{ p }}</li>{% endfor %}</ul>{% endif %}
{% endblock %}
""",
}

_ENV = Environment(loader=DictLoader(_TEMPLATES), autoescape=True, undefined=StrictUndefined,
                   keep_trailing_newline=True)


def _html_entry(e: ManualEntry) -> dict[str, Any]:
    j = entry_json(e)
    for r in j["resolutions"]:
        r["safe_link"] = safe_link(r["link"])
    return j


def html(entries: Sequence[ManualEntry], generated: str = "") -> dict[str, str]:
    """The manual in HTML: ``index.html`` and one ``ID.html`` per entry, each page whole (its
    style inline, a Content-Security-Policy that fetches nothing), every text escaped."""
    names = _names(entries, ".html")
    out = {"index.html": _ENV.get_template("index.html").render(
        groups=_by_kind(entries), names=names, generated=generated, style=_STYLE)}
    page = _ENV.get_template("entry.html")
    out.update({names[e.id]: page.render(e=_html_entry(e), style=_STYLE) for e in entries})
    return out


def render(fmt: str, entries: Sequence[ManualEntry], generated: str = "") -> dict[str, str]:
    """The documents of ``fmt`` (one of FORMATS)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    return (markdown if fmt == "markdown" else html)(entries, generated)
