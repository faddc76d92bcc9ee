"""`andon access`, `andon subscribe` and `andon unsubscribe` as a user runs them: the real console
script, over the store (no scheduler) and over a running `andon up` (the local admin token)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from andon.serve.up import ensure_local_token
from tests.cli.test_search import andon
from tests.conftest import ProjectFactory
from tests.web.conftest import running

PIPELINES = """\
    import andon
    andon.source("orders", owner="sales@example.com", description="every order of the shop",
                 access={"note": "sales data: say what for",
                         "form": {"type": "object", "required": ["purpose"],
                                  "properties": {"purpose": {"type": "string", "maxLength": 300},
                                                 "rows": {"type": "integer", "minimum": 1}}}})

    @andon.pipeline(inputs=["orders"], outputs=["orders_daily"], owner="sales@example.com")
    def sum_orders(ctx):
        pass
    """
CATALOG = """\
[[entries]]
kind = "dataset"
name = "crm_contacts"
owner = "crm@example.com"
description = "customer contacts from the CRM"

[entries.access]
link = "https://crm.example.com/access"

[entries.access.form]
type = "object"
required = ["purpose"]

[entries.access.form.properties.purpose]
type = "string"
maxLength = 500
"""


def _day(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


def _flow(root: Path) -> None:
    asked = andon(root, "access", "request", "orders", "--reason", "churn study", "--until",
                  _day(30), "--answer", "purpose=forecast", "--answer", "rows=10")
    assert asked.returncode == 0, asked.stderr
    assert asked.stdout.startswith(f"access request orders:1 for orders until {_day(30)}: "
                                   "requested")
    listed = json.loads(andon(root, "access", "list", "--status", "requested", "--json").stdout)
    assert [(r["request_id"], r["answers"]) for r in listed] == \
        [("orders:1", {"purpose": "forecast", "rows": 10})]
    approved = andon(root, "access", "approve", "orders:1", "--note", "ok")
    assert approved.returncode == 0, approved.stderr
    again = andon(root, "access", "approve", "orders:1")
    assert again.returncode == 2 and "was approved already" in again.stderr
    shown = json.loads(andon(root, "access", "show", "orders:1", "--json").stdout)
    assert shown["status"] == "approved" and shown["decision_note"] == "ok"
    assert [c["request_id"] for c in shown["consumers"]] == ["orders:1"]
    text = andon(root, "access", "show", "orders:1").stdout
    assert "purpose: forecast" in text and "consumer " in text
    declared = andon(root, "access", "request", "crm_contacts", "--reason", "mailing",
                     "--answer", "purpose=newsletter")
    assert declared.returncode == 0, declared.stderr
    rejected = andon(root, "access", "reject", "crm_contacts:1", "--reason", "no consent")
    assert rejected.returncode == 0, rejected.stderr
    table = andon(root, "access", "list").stdout.splitlines()
    assert table[0].split() == ["REQUEST", "STATUS", "ASSET", "REQUESTER", "UNTIL", "REASON"]
    assert table[1].split()[:2] == ["crm_contacts:1", "rejected"]
    sub = andon(root, "subscribe", "orders_daily", "--as", "ops@example.com", "--until", _day(5))
    assert sub.stdout.strip() == f"ops@example.com is a consumer of orders_daily until {_day(5)}"
    unsub = andon(root, "unsubscribe", "orders_daily", "--as", "ops@example.com")
    assert unsub.returncode == 0, unsub.stderr
    gone = andon(root, "unsubscribe", "orders_daily", "--as", "ops@example.com")
    assert gone.returncode == 2 and "is not a registered consumer" in gone.stderr


def test_access_without_a_server(make_project: ProjectFactory) -> None:
    root = make_project(PIPELINES)
    (root / "catalog.toml").write_text(CATALOG)
    _flow(root)


def test_access_through_a_running_server(make_project: ProjectFactory) -> None:
    root = make_project(PIPELINES)
    (root / "catalog.toml").write_text(CATALOG)
    with running(root) as line:
        ensure_local_token(line.settings, line.store)  # what `andon up` makes for the CLI
        _flow(root)
        unknown = andon(root, "access", "request", "ordres", "--reason", "x")
        assert unknown.returncode == 2
        assert "no data set named 'ordres'" in unknown.stderr
        assert "did you mean 'orders'" in unknown.stderr
        bad = andon(root, "access", "request", "orders", "--reason", "x", "--answer", "rows=0",
                    "--answer", "purpose=p")
        assert bad.returncode == 2 and "answers.rows" in bad.stderr


def test_a_bad_form_fails_validate_with_file_line_and_fix(make_project: ProjectFactory) -> None:
    root = make_project(PIPELINES)
    (root / "catalog.toml").write_text(CATALOG.replace('maxLength = 500', 'maxLen = 500'))
    proc = andon(root, "validate")
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"Error: {root / 'catalog.toml'}:1: entry 'crm_contacts' "
                                  "(dataset): form.properties.purpose uses maxLen")
    assert "hint: use only" in proc.stderr
    root = make_project(PIPELINES.replace('"type": "integer"', '"type": "int"'))
    proc = andon(root, "validate")
    assert proc.returncode == 2
    assert "source 'orders': form.properties.rows has type 'int'" in proc.stderr
