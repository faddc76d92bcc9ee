"""Drift reports kept in the store (``drift_reports``): computed once and read back after a
restart (a new ``Drift`` on the same store), without the profile files; a new serving version
computes anew; the heat map's cold path from the bins only; and ``andon up``'s drift keeper
computing each report as its run succeeds, on its own threads."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from andon.events import RunFailed, RunSucceeded
from andon.live.clock import FakeClock
from andon.live.drift import Drift
from andon.store.schema import drift_reports
from andon.store.sql import Store
from tests.conftest import ProjectFactory, utc
from tests.drift.projects import drift_project, land
from tests.runner.harness import Live, open_live
from tests.web.conftest import auth_header, running

T0 = utc(2026, 1, 10, 6)
DAYS = ["2026-01-02", "2026-01-03", "2026-01-04", "2026-01-05"]


def kept_rows(store: Store, asset: str = "features") -> list[Any]:
    with store.read() as conn:
        return list(conn.execute(select(drift_reports).where(drift_reports.c.asset == asset)
                                 .order_by(drift_reports.c.partition)))


@pytest.fixture
def live(make_project: ProjectFactory) -> Iterator[Live]:
    root = drift_project(make_project)
    for day in DAYS:
        land(root, day, mean=3.0 if day == "2026-01-05" else 0.0)
    live = open_live(root, FakeClock(T0))
    try:
        for i, day in enumerate(DAYS):
            live.notify("raw", day)
            live.wait_for(lambda log, n=2 * (i + 1): sum(
                isinstance(e, (RunSucceeded, RunFailed)) for e in log) >= n, "runs ending")
        live.submit(live.service.models.promote_event("churn", 1, live.now()))
        yield live
    finally:
        live.close()


def remove_profiles(root: Path) -> None:
    for folder in (root / ".andon/runs").glob("*/profiles"):
        shutil.rmtree(folder)


def test_reports_are_kept_and_read_back_after_a_restart_without_the_profiles(live: Live) -> None:
    drift = live.service.drift
    assert kept_rows(live.store) == []
    before = {day: drift.report("features", day) for day in DAYS}
    heat = drift.heat("features")
    rows = kept_rows(live.store)
    assert [r.partition for r in rows] == DAYS and all(r.tested for r in rows)
    assert before["2026-01-05"].red and before["2026-01-05"].tested

    remove_profiles(live.root)  # nothing can be computed again: what follows was kept
    restarted = Drift(live.service.graph, live.store, live.root)
    assert restarted.heat("features") == heat
    for day in DAYS:
        again = restarted.report("features", day)
        assert again == before[day] and not again.error
    assert restarted.report("recent", "2026-01-05").error  # never kept: its file is gone


def test_the_cold_heat_map_is_computed_from_the_bins_and_kept(live: Live) -> None:
    heat = live.service.drift.heat("features")
    cells = {(c["partition"], c["column"]): c for c in heat["cells"]}
    assert cells[("2026-01-05", "spend")]["band"] == "red"
    assert all(c["p"] is None for c in heat["cells"])  # no sample decoded, no test run
    rows = kept_rows(live.store)
    assert [r.partition for r in rows] == DAYS and not any(r.tested for r in rows)
    # the same PSI as the whole report's, which then replaces the bins-only one
    full = live.service.drift.report("features", "2026-01-05")
    spend = next(c for c in full.columns if c.name == "spend")
    assert spend.psi == pytest.approx(cells[("2026-01-05", "spend")]["psi"])
    assert spend.p is not None and spend.significant
    assert [r.tested for r in kept_rows(live.store) if r.partition == "2026-01-05"] == [1]


def test_a_new_serving_version_computes_anew(live: Live) -> None:
    drift = live.service.drift
    first = drift.report("features", "2026-01-05")
    assert first.reference_partitions == ["2026-01-02"]
    live.submit(live.service.models.promote_event("churn", 2, live.now()))
    restarted = Drift(live.service.graph, live.store, live.root)
    second = restarted.report("features", "2026-01-05")
    assert second.reference == "training of churn (serving version 2)"
    assert second.reference_partitions == ["2026-01-03"]
    assert len([r for r in kept_rows(live.store) if r.partition == "2026-01-05"]) == 2


def test_andon_up_computes_each_report_as_its_run_succeeds_off_the_scheduler_thread(
        make_project: ProjectFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    root = drift_project(make_project)
    for day in DAYS:
        land(root, day, mean=3.0 if day == "2026-01-05" else 0.0)
    threads: list[str] = []
    real = Drift.report

    def report(self: Drift, *args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread().name)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Drift, "report", report)
    with running(root) as line, httpx.Client(base_url=line.url, timeout=30) as client:
        line.service.catalog.wait()
        for day in DAYS:
            assert client.post("/api/v1/notify", json={"asset": "raw", "partition": day},
                               headers=auth_header(line)).status_code == 201
            assert line.runner.drain()
        assert line.drift_keeper is not None and line.drift_keeper.wait(60)
        rows = kept_rows(line.store)
        assert [r.partition for r in rows] == DAYS and all(r.tested for r in rows)
        assert {r.partition for r in kept_rows(line.store, "recent")} == set(DAYS)
        assert threads and all(t.startswith("andon-drift") for t in threads), threads
        # a promotion: the heat map against the new reference, computed in the background
        assert client.post("/api/v1/models/churn/promote", json={"version": 1},
                           headers=auth_header(line)).status_code == 201
        assert line.runner.drain() and line.drift_keeper.wait(60)
        assert len(kept_rows(line.store)) == 2 * len(DAYS)
        remove_profiles(root)
        heat = client.get("/api/v1/drift/features").json()
        assert heat["reference"] == "training of churn (serving version 1)"
        assert not heat["errors"] and len(heat["cells"]) == 3 * len(DAYS)
        page = client.get("/assets/features")
        assert page.status_code == 200 and page.text.count('<td class="r"') >= 1
