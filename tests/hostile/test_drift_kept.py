"""Hostile kept drift reports (``drift_reports``): a row edited by hand, a body that lies about
its band, names another reference, holds a NaN, a huge or non-JSON body, another column count.
Each is ignored and the report computed again from the profiles (and kept again); never trusted,
never a crash. Also the bins-only loader: it still refuses every field but the sample."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import update

from andon.drift.codec import dumps, loads
from andon.drift.limits import DriftError
from andon.drift.profile import profile
from andon.live.drift import Drift
from andon.store.driftreports import digest_of
from andon.store.schema import drift_reports
from tests.drift.test_kept import kept_rows
from tests.drift.test_kept import live as live  # noqa: F401  (the fixture)
from tests.runner.harness import Live

DAY = "2026-01-05"  # red on spend against version 1's training data


def _edit(live: Live, change: Callable[[dict[str, Any]], Any], fix_digest: bool) -> None:
    row = next(r for r in kept_rows(live.store) if r.partition == DAY)
    body = change(json.loads(row.body))
    text = body if isinstance(body, str) else json.dumps(body)
    digest = digest_of(row.asset, row.partition, row.reference, row.run_id, bool(row.tested),
                       text) if fix_digest else row.digest
    t = drift_reports
    with live.store._write() as conn:  # noqa: SLF001  (the attacker writes the table directly)
        conn.execute(update(t).where((t.c.partition == DAY) & (t.c.reference == row.reference))
                     .values(body=text, digest=digest))


def _greened(body: dict[str, Any]) -> dict[str, Any]:
    for cell in body["columns"]:
        cell[1], cell[4] = (0.0, "green") if cell[0] == "spend" else (cell[1], cell[4])
    return body


def _lying_band(body: dict[str, Any]) -> dict[str, Any]:
    for cell in body["columns"]:
        cell[4] = "green"
    return body


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda body: {**body, key: value}


def _nan(body: dict[str, Any]) -> str:
    return json.dumps(body).replace('"spend", ', '"spend", NaN, 0.1, 0.5, "green", false], '
                                    '["x", ', 1)


TAMPERS: dict[str, tuple[Callable[[dict[str, Any]], Any], bool]] = {
    "edited, digest left": (_greened, False),
    "band not following its PSI": (_lying_band, True),
    "another reference": (_set("reference_partitions", ["2026-01-04"]), True),
    "a column dropped": (lambda b: {**b, "columns": b["columns"][1:]}, True),
    "a NaN": (_nan, True),
    "not JSON": (lambda b: "{" * 100_000, True),
    "huge": (lambda b: {**b, "error": "", "pad": "x" * 10_000_000}, True),
    "a name that is not an identifier": (
        lambda b: {**b, "columns": [["../x", *c[1:]] for c in b["columns"]]}, True),
    "an error and columns": (_set("error", "nothing"), True),
}


@pytest.mark.parametrize("tamper", list(TAMPERS))
def test_a_tampered_kept_report_is_ignored_and_computed_again(live: Live, tamper: str) -> None:
    truth = live.service.drift.report("features", DAY)
    assert truth.red
    change, fix_digest = TAMPERS[tamper]
    _edit(live, change, fix_digest)
    restarted = Drift(live.service.graph, live.store, live.root)
    assert restarted.report("features", DAY) == truth
    assert restarted.heat("features")["cells"][-3]["band"] == "red"
    # kept again, as computed
    row = next(r for r in kept_rows(live.store) if r.partition == DAY)
    assert row.digest == digest_of(row.asset, row.partition, row.reference, row.run_id,
                                   bool(row.tested), row.body)
    assert json.loads(row.body)["columns"][0][4] == "red"


def test_a_dropped_table_row_is_computed_again(live: Live) -> None:
    truth = live.service.drift.report("features", DAY)
    with live.store._write() as conn:  # noqa: SLF001  (the cache is safe to empty)
        conn.execute(drift_reports.delete())
    assert Drift(live.service.graph, live.store, live.root).report("features", DAY) == truth


@pytest.fixture
def good_text() -> Iterator[str]:
    import numpy as np

    yield dumps(profile({"x": np.random.default_rng(0).normal(size=500)}))


def test_the_bins_only_loader_skips_only_the_sample(good_text: str) -> None:
    data = json.loads(good_text)
    data["columns"][0]["sample"] = "not base64 at all"
    loaded = loads(json.dumps(data), samples=False)
    assert loaded.columns["x"].sample == b"" and sum(loaded.columns["x"].bins) == 500
    with pytest.raises(DriftError, match="sample"):
        loads(json.dumps(data))
    data["columns"][0]["bins"][0] += 1  # counts that lie are still refused
    with pytest.raises(DriftError, match="bins do not add up"):
        loads(json.dumps(data), samples=False)

