"""``andon audit`` as a user runs it on the planted history (``andon.audit.plant``, ending now:
the CLI reads the real clock): with no scheduler (the CLI reads the store), then over HTTP while
``andon up`` runs; --json, --markdown, --since, and the refusals."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tests.audit.conftest import Planter, planted  # noqa: F401  (the planted project)
from tests.cli.test_commands import andon, andon_up


def test_audit_offline_and_over_http(planted: Planter) -> None:  # noqa: F811
    root, what = planted(copies=1, extra='gb_month = 0.02\n', now=datetime.now(UTC))
    data = json.loads(andon(root, "audit", "--json").stdout)
    got = {(f["kind"], f["object"]) for f in data["findings"]}
    assert got == what.expected
    assert all(set(f) >= {"kind", "object", "evidence", "owner", "action", "cost"}
               for f in data["findings"])
    table = andon(root, "audit")
    assert "unused_data" in table.stdout and "unused0" in table.stdout
    assert "findings, estimated" in table.stderr
    md = andon(root, "audit", "--markdown").stdout
    assert md.startswith("# Waste audit") and "| unused0 |" in md
    assert "## fossil artifacts (`fossil_artifact`)" in md
    future = andon(root, "audit", "--json", "--since", "2999-01-01", check=False)
    assert future.returncode == 2 and "in the future" in future.stderr
    recent = json.loads(andon(root, "audit", "--json", "--since", "2026-01-01").stdout)
    assert ("batch_should_stream", "often0") in {(f["kind"], f["object"])
                                                 for f in recent["findings"]}

    with andon_up(root, "--executor", "inprocess"):
        live = json.loads(andon(root, "audit", "--json").stdout)
        assert {("unused_data", "unused0"), ("noisy_alert", "check:noisy0 on kept0"),
                ("fossil_artifact", "m0")} <= {(f["kind"], f["object"])
                                                for f in live["findings"]}
        bad = andon(root, "audit", "--since", "last week", check=False)
        assert bad.returncode == 2 and "since" in bad.stderr


def test_audit_refusals(planted: Planter) -> None:  # noqa: F811
    root, _ = planted(copies=1)
    bad = andon(root, "audit", "--since", "2026-02-30", check=False)
    assert bad.returncode == 2 and "is not a date" in bad.stderr and "hint" in bad.stderr.lower()
    both = andon(root, "audit", "--json", "--markdown", check=False)
    assert both.returncode == 2 and "not both" in both.stderr
