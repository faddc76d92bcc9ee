"""The audit as JSON (``andon audit --json``, ``GET /api/v1/audit``) and as Markdown
(``andon audit --markdown``, what a scheduled audit pipeline writes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

from andon.audit.findings import Finding
from andon.audit.kinds import KINDS, TITLES
from andon.model.views import Json
from andon.project.waste import AuditSettings


def audit_json(findings: Sequence[Finding], cfg: AuditSettings) -> Json:
    """``{"findings": [{"kind", "object", "evidence", "owner", "action", "cost", "url",
    "numbers"}], "currency", "total_cost", "kinds": {kind: count}, "undeclared": [...]}``;
    ``undeclared`` names the kinds the project gave no declarations for (no backups, no
    regions), so that their absence is not read as a clean bill."""
    counts = {k: sum(1 for f in findings if f.kind == k) for k in KINDS}
    return {"findings": [asdict(f) for f in findings], "currency": cfg.currency,
            "total_cost": round(sum(f.cost for f in findings), 2), "kinds": counts,
            "undeclared": [k for k, missing in (("backup_not_drilled", not cfg.backups),
                                                ("cross_region", not (cfg.regions and
                                                                      cfg.pool_regions)))
                           if missing]}


def _cell(text: object) -> str:
    """``text`` safe in one Markdown table cell: one line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def audit_markdown(data: Json) -> str:
    """The JSON of ``audit_json`` as a Markdown report: one table per kind with findings."""
    n = len(data["findings"])
    lines = ["# Waste audit", "", f"{n} finding{'s' * (n != 1)}, estimated "
             f"{data['total_cost']:.2f} {data['currency']} a month.", ""]
    for kind in KINDS:
        found = [f for f in data["findings"] if f["kind"] == kind]
        if not found:
            continue
        lines += [f"## {TITLES[kind]} (`{kind}`)", "",
                  "| object | evidence | owner | action | cost |", "|---|---|---|---|---|"]
        lines += [f"| {_cell(f['object'])} | {_cell(f['evidence'])} | {_cell(f['owner'] or '-')} "
                  f"| {_cell(f['action'])} | {f['cost']:.2f} |" for f in found]
        lines.append("")
    if data["undeclared"]:
        lines.append("Not audited (the project declares nothing for them: backup_of= and "
                     "andon.restore_drill, region= and [audit] pool_regions): "
                     + ", ".join(data["undeclared"]) + ".")
    return "\n".join(lines) + "\n"
