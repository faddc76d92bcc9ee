"""Each built kind of waste is found on a real SQLite store holding planted waste, and none of
its decoys is; the costs follow the [audit] rates; ``since`` moves the windows."""

from __future__ import annotations

from pathlib import Path

import pytest

from andon.audit.findings import Finding, audit
from andon.audit.kinds import BUILT, KINDS
from andon.audit.views import audit_json, audit_markdown
from andon.project.load import load_project
from andon.project.waste import AuditSettings
from andon.store.sql import Store
from tests.audit.conftest import NOW, Planter


def _audit(root: Path, since: object = None) -> tuple[list[Finding], AuditSettings]:
    project = load_project(root)
    cfg = project.audit
    store = Store(f"sqlite:///{root / '.andon' / 'andon.db'}")
    try:
        return audit(store, project.graph, cfg, NOW, since), cfg  # type: ignore[arg-type]
    finally:
        store.close()


def test_every_planted_kind_is_found_and_no_decoy(planted: Planter) -> None:
    root, what = planted(copies=2)
    found, _ = _audit(root)
    got = {(f.kind, f.object) for f in found}
    assert got == what.expected  # every planted finding, nothing else
    assert not got & what.decoys
    assert {k for k, _ in what.expected} == set(BUILT)
    assert set(BUILT) <= set(KINDS)


@pytest.mark.parametrize("kind", BUILT)
def test_each_kind_has_evidence_owner_action(planted: Planter, kind: str) -> None:
    root, _ = planted(copies=1)
    found = [f for f in _audit(root)[0] if f.kind == kind]
    assert found
    for f in found:
        assert f.evidence and f.action and f.numbers and f.cost == 0.0  # no rates set


def test_costs_follow_the_rates(planted: Planter) -> None:
    root, _ = planted(copies=1, extra='gb_month = 0.02\ncpu_hour = 3.6\n'
                                      'currency = "EUR"\n')
    found, cfg = _audit(root)
    by = {(f.kind, f.object): f for f in found}
    assert by[("unused_data", "unused0")].cost == pytest.approx(0.02)  # 1 GB a month
    assert by[("duplicate_data", "dupb0")].cost == pytest.approx(0.02)  # the extra copy
    assert by[("fossil_artifact", "m0")].numbers["fossil_versions"] == 4
    assert by[("startup_delay", "slow0")].cost == pytest.approx(6 * 5.0 / 3600 * 3.6, abs=0.01)
    data = audit_json(found, cfg)
    assert data["currency"] == "EUR" and data["total_cost"] > 0
    assert set(data["findings"][0]) >= {"kind", "object", "evidence", "owner", "action", "cost"}
    md = audit_markdown(data)
    assert md.startswith("# Waste audit") and "`unused_data`" in md and "EUR" in md


def test_noisy_alert_precision_is_a_number(planted: Planter) -> None:
    root, _ = planted(copies=1)
    found = {f.object: f for f in _audit(root)[0] if f.kind == "noisy_alert"}
    assert set(found) == {"check:noisy0 on kept0", "check:warnnoisy0 on alarm0"}
    for noisy in found.values():  # a cord source, and a warning check's failures
        assert noisy.numbers["precision"] == pytest.approx(1 / 6, abs=1e-3)
        assert noisy.numbers["false_alerts"] == 5 and "precision 17%" in noisy.evidence
    assert found["check:warnnoisy0 on alarm0"].numbers["blocking"] is False


def test_fossil_versions_of_a_keep_last_data_set(planted: Planter) -> None:
    root, _ = planted(copies=1, extra="gb_month = 0.5\n")
    by = {f.object: f for f in _audit(root)[0] if f.kind == "fossil_artifact"}
    vers = by["vers0"]  # 4 old versions past keep_last 1, each in a file of its own
    assert vers.numbers["fossil_versions"] == 4 and vers.numbers["keep_last"] == 1
    assert vers.numbers["fossil_bytes"] == 4 * 10**9 and vers.cost == pytest.approx(2.0)
    assert "inplace0" not in by and "deep0" not in by  # overwritten in place; all kept


def test_thresholds_come_from_the_settings(planted: Planter) -> None:
    root, _ = planted(copies=1, extra="unused_days = 90\nstartup_share = 3.0\n")
    got = {(f.kind, f.object) for f in _audit(root)[0]}
    assert ("unused_data", "unused0") not in got  # 60 days unread < 90
    assert ("dead_pipeline", "dead0") not in got
    assert ("startup_delay", "slow0") not in got  # 2.5 x < 3


def test_the_smallest_thresholds_hold(planted: Planter) -> None:
    root, _ = planted(copies=1, extra="min_runs = 1\nunused_days = 1\nwindow_days = 1\n"
                                      "precision = 1.0\nidle_share = 1.0\n")
    found = _audit(root)[0]  # every judgement with the least evidence: no division by nothing
    assert {f.kind for f in found} >= {"unused_data", "dead_pipeline", "idle_capacity"}


def test_since_moves_the_windows(planted: Planter) -> None:
    from datetime import timedelta

    root, _ = planted(copies=1)
    got = {(f.kind, f.object) for f in _audit(root, NOW - timedelta(days=100))[0]}
    # the log began 90 days ago: everything was read or made since then
    assert ("unused_data", "unused0") not in got and ("dead_pipeline", "dead0") not in got
    assert ("batch_should_stream", "often0") in got  # still runs every 5 minutes
