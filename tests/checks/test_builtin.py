"""Built-in checks over real CSV / JSON-lines files on disk."""

from __future__ import annotations

import gzip
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from andon import checks
from andon.checks.context import CheckContext, CheckResult
from andon.checks.shift import psi
from andon.checks.tables import DataFormatError, kind, read_table
from andon.model.definitions import Asset
from andon.model.partitions import Partitions

START = datetime(2026, 1, 1, tzinfo=UTC)
DAILY = Partitions("daily", START)
ASSET = Asset("orders", DAILY, location="data/orders/{partition}.csv")


def write_csv(root: Path, key: str, header: str, rows: list[str]) -> Path:
    path = root / ASSET.location_of(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def ctx(root: Path, key: str, path: Path | None = None, now: datetime | None = None) -> CheckContext:
    return CheckContext("orders", key, 1, path or root / ASSET.location_of(key), root,
                        now or DAILY.end(key), DAILY.end(key), ASSET)


def run(check: object, context: CheckContext) -> CheckResult:
    result = check(context)  # type: ignore[operator]
    assert isinstance(result, CheckResult)
    return result


def test_row_count_range(tmp_path: Path) -> None:
    write_csv(tmp_path, "2026-01-05", "id,amount", ["1,10", "2,20", "3,30"])
    c = ctx(tmp_path, "2026-01-05")
    ok = run(checks.row_count(min=1, max=3), c)
    assert ok.passed and ok.numbers["rows"] == 3
    low = run(checks.row_count(min=4), c)
    assert not low.passed and "outside [4, ]" in low.message
    assert not run(checks.row_count(max=2), c).passed
    assert checks.row_count().__name__ == "row_count"


def test_null_fraction_per_column(tmp_path: Path) -> None:
    write_csv(tmp_path, "2026-01-05", "id,amount,note", ["1,10,", "2,,x", "3,NA,", "4,40,y"])
    c = ctx(tmp_path, "2026-01-05")
    strict = run(checks.null_fraction(columns=["id", "amount"]), c)
    assert not strict.passed
    assert strict.numbers["null_fraction:id"] == 0.0
    assert strict.numbers["null_fraction:amount"] == 0.5  # empty and NA are nulls
    assert "amount 50.0% null" in strict.message
    assert run(checks.null_fraction(max=0.5, columns=["amount"]), c).passed
    per_column = run(checks.null_fraction(columns={"id": 0.0, "note": 0.5}), c)
    assert per_column.passed, per_column.message
    missing = run(checks.null_fraction(columns=["nope"]), c)
    assert not missing.passed and "nope is missing" in missing.message


def test_column_set_and_types(tmp_path: Path) -> None:
    write_csv(tmp_path, "2026-01-05", "id,amount,day,code",
              ["1,10.5,2026-01-05,007", "2,3,2026-01-05T10:00:00Z,abc"])
    c = ctx(tmp_path, "2026-01-05")
    assert run(checks.columns(["id", "amount"]), c).passed
    exact = run(checks.columns(["id", "amount"], exact=True), c)
    assert not exact.passed and "unexpected day, code" in exact.message
    typed = run(checks.columns({"id": "int", "amount": "float", "day": "datetime", "code": "str"}), c)
    assert typed.passed, typed.message
    wrong = run(checks.columns({"amount": "int", "missing": "str"}), c)
    assert not wrong.passed
    assert "missing missing" in wrong.message and "amount should be int but has 1 float" in wrong.message
    assert wrong.numbers["missing"] == 1 and wrong.numbers["wrong_type"] == 1
    with pytest.raises(ValueError, match="unknown column type"):
        checks.columns({"id": "integer"})


def test_types_of_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "data/orders/2026-01-05.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text('{"id": 1, "ok": true, "name": "a"}\n\n{"id": 2, "ok": false}\n')
    c = ctx(tmp_path, "2026-01-05", path)
    assert c.table.rows == 2 and c.table.columns["name"] == ["a", None]
    assert run(checks.columns({"id": "int", "ok": "bool", "name": "str"}), c).passed
    assert not run(checks.columns({"id": "str"}), c).passed  # JSON numbers are not text


def test_key_uniqueness(tmp_path: Path) -> None:
    write_csv(tmp_path, "2026-01-05", "shop,id", ["a,1", "a,2", "b,1", "a,1", "a,1"])
    c = ctx(tmp_path, "2026-01-05")
    single = run(checks.unique("id"), c)
    assert not single.passed and single.numbers["duplicates"] == 3
    pair = run(checks.unique(["shop", "id"]), c)
    assert not pair.passed and pair.numbers["duplicates"] == 2 and "('a', '1')" in pair.message
    write_csv(tmp_path, "2026-01-06", "shop,id", ["a,1", "b,1", ",2"])
    with_null = run(checks.unique(["shop", "id"]), ctx(tmp_path, "2026-01-06"))
    assert not with_null.passed and with_null.numbers == {"rows": 3, "duplicates": 0, "null_keys": 1}
    write_csv(tmp_path, "2026-01-07", "shop,id", ["a,1", "b,1"])
    assert run(checks.unique(["shop", "id"]), ctx(tmp_path, "2026-01-07")).passed


def test_value_range(tmp_path: Path) -> None:
    write_csv(tmp_path, "2026-01-05", "amount", ["5", "10", "", "-1", "abc"])
    c = ctx(tmp_path, "2026-01-05")
    result = run(checks.value_range("amount", min=0, max=10), c)
    assert not result.passed
    assert result.numbers["out_of_range"] == 1 and result.numbers["not_numeric"] == 1
    assert result.numbers["min"] == -1 and result.numbers["max"] == 10
    write_csv(tmp_path, "2026-01-06", "id,amount", ["1,5", "2,", "3,7"])
    c6 = ctx(tmp_path, "2026-01-06")
    assert run(checks.value_range("amount", min=0), c6).passed
    assert not run(checks.value_range("amount", min=0, allow_null=False), c6).passed
    assert not run(checks.value_range("nope", min=0), c6).passed


def test_freshness_from_a_timestamp_column(tmp_path: Path) -> None:
    # the partition 2026-01-05 ends at 2026-01-06T00:00Z
    write_csv(tmp_path, "2026-01-05", "id,ts", ["1,2026-01-05T20:00:00Z", "2,2026-01-05T23:30:00"])
    c = ctx(tmp_path, "2026-01-05")
    fresh = run(checks.freshness("1h", column="ts"), c)
    assert fresh.passed and fresh.numbers["lag_seconds"] == 1800
    stale = run(checks.freshness("10m", column="ts"), c)
    assert not stale.passed and "at most 10m" in stale.message
    epoch = datetime(2026, 1, 5, 12, tzinfo=UTC).timestamp()
    write_csv(tmp_path, "2026-01-06", "ts", [str(int(epoch))])
    assert run(checks.freshness("13h", column="ts"), ctx(tmp_path, "2026-01-06")).numbers[
        "lag_seconds"] == 36 * 3600


def test_freshness_from_the_file_time(tmp_path: Path) -> None:
    path = write_csv(tmp_path, "2026-01-05", "id", ["1"])
    end = DAILY.end("2026-01-05")
    os.utime(path, (end.timestamp() - 7200, end.timestamp() - 7200))
    c = ctx(tmp_path, "2026-01-05")
    assert not run(checks.freshness(timedelta(hours=1)), c).passed
    result = run(checks.freshness("3h"), c)
    assert result.passed and result.numbers["lag_seconds"] == 7200


def test_shift_by_z_score_against_previous_partitions(tmp_path: Path) -> None:
    for day, mean in ((1, 100), (2, 102), (3, 98), (4, 101)):
        write_csv(tmp_path, f"2026-01-0{day}", "amount", [str(mean - 1), str(mean + 1)])
    write_csv(tmp_path, "2026-01-05", "amount", ["100", "101"])
    normal = run(checks.shift("amount", n=7), ctx(tmp_path, "2026-01-05"))
    assert normal.passed and normal.numbers["history"] == 4, normal.message
    assert abs(normal.numbers["z"]) < 1
    write_csv(tmp_path, "2026-01-06", "amount", ["500", "510"])
    jumped = run(checks.shift("amount", n=3), ctx(tmp_path, "2026-01-06"))
    assert not jumped.passed and jumped.numbers["history"] == 3 and jumped.numbers["z"] > 3
    assert "standard deviations" in jumped.message


def test_shift_needs_history_and_skips_gaps(tmp_path: Path) -> None:
    write_csv(tmp_path, "2026-01-01", "amount", ["1"])
    write_csv(tmp_path, "2026-01-03", "amount", ["1000"])
    early = run(checks.shift("amount", n=5), ctx(tmp_path, "2026-01-03"))
    assert early.passed and "not enough history" in early.message
    assert ctx(tmp_path, "2026-01-03").previous(5) == [
        ("2026-01-01", tmp_path / "data/orders/2026-01-01.csv")]


def test_shift_by_population_stability_index(tmp_path: Path) -> None:
    for day in range(1, 5):
        write_csv(tmp_path, f"2026-01-0{day}", "x", [str(i) for i in range(100)])
    write_csv(tmp_path, "2026-01-05", "x", [str(i) for i in range(0, 100, 2)])
    same = run(checks.shift("x", method="psi"), ctx(tmp_path, "2026-01-05"))
    assert same.passed and same.numbers["psi"] < 0.1, same.message
    write_csv(tmp_path, "2026-01-06", "x", [str(80 + i % 20) for i in range(100)])
    moved = run(checks.shift("x", method="psi"), ctx(tmp_path, "2026-01-06"))
    assert not moved.passed and moved.numbers["psi"] > 0.2
    assert psi([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="unknown shift method"):
        checks.shift("x", method="ks")


def test_folders_gzip_and_bad_lines(tmp_path: Path) -> None:
    folder = tmp_path / "part"
    folder.mkdir()
    (folder / "a.csv").write_text("id\n1\n2\n")
    with gzip.open(folder / "b.csv.gz", "wt") as fh:
        fh.write("id\n3\n")
    (folder / "_SUCCESS").write_text("")
    (folder / ".hidden.csv").write_text("id\n9\n")
    c = ctx(tmp_path, "2026-01-05", folder)
    assert run(checks.row_count(min=3, max=3), c).passed
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"a": 1}) + "\nnot json\n")
    with pytest.raises(DataFormatError, match=r"bad.jsonl:2"):
        read_table([bad])
    assert [kind(v) for v in ("12", "1.5", "true", "2026-01-05", "x", None, "")] == [
        "int", "float", "bool", "datetime", "str", "null", "str"]
