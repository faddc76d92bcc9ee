"""Partition schemes: keys, windows in time, and clear errors for bad keys."""

from __future__ import annotations

from datetime import timedelta

import pytest

from andon.model.partitions import (
    UNPARTITIONED_KEY,
    PartitionKeyError,
    Partitions,
    parse_partitions,
)
from tests.conftest import utc

START = utc(2026, 1, 1)
DAILY = Partitions("daily", START)
HOURLY = Partitions("hourly", START)
NONE = Partitions("unpartitioned", START)


def test_a_daily_key_spans_its_day_and_ends_at_midnight() -> None:
    # DESIGN.md section 4: the end of 2026-01-05 is 2026-01-06T00:00Z
    assert DAILY.begin("2026-01-05") == utc(2026, 1, 5)
    assert DAILY.end("2026-01-05") == utc(2026, 1, 6)
    assert DAILY.step == timedelta(days=1)
    assert DAILY.is_time and DAILY.example == "2026-01-05"


def test_an_hourly_key_spans_its_hour() -> None:
    assert HOURLY.begin("2026-01-05T03") == utc(2026, 1, 5, 3)
    assert HOURLY.end("2026-01-05T23") == utc(2026, 1, 6)
    assert HOURLY.step == timedelta(hours=1)
    assert HOURLY.example == "2026-01-05T03"


def test_an_unpartitioned_asset_has_the_one_key_all() -> None:
    assert NONE.validate(UNPARTITIONED_KEY) == "all"
    assert not NONE.is_time and NONE.step == timedelta(0)
    assert NONE.key_of(utc(2026, 3, 1)) == "all"
    assert NONE.keys("all", "all") == ["all"]
    assert NONE.shift("all", 5) == "all"
    with pytest.raises(PartitionKeyError, match="'2026-01-05' is not a key of an unpartitioned "
                                                "asset; use 'all'"):
        NONE.validate("2026-01-05")


def test_key_of_a_moment_and_shift() -> None:
    assert DAILY.key_of(utc(2026, 1, 5, 23, 59)) == "2026-01-05"
    assert HOURLY.key_of(utc(2026, 1, 5, 3, 30)) == "2026-01-05T03"
    assert DAILY.shift("2026-01-31", 1) == "2026-02-01"  # across a month
    assert DAILY.shift("2026-03-01", -1) == "2026-02-28"
    assert HOURLY.shift("2026-01-05T23", 1) == "2026-01-06T00"  # across a day
    assert DAILY.shift("2026-01-05", 0) == "2026-01-05"


def test_keys_lists_a_range_inclusively_in_order() -> None:
    assert DAILY.keys("2026-01-30", "2026-02-02") == ["2026-01-30", "2026-01-31", "2026-02-01",
                                                     "2026-02-02"]
    assert DAILY.keys("2026-01-05", "2026-01-05") == ["2026-01-05"]
    assert DAILY.keys("2026-01-06", "2026-01-05") == []
    assert len(HOURLY.keys("2026-01-05T00", "2026-01-05T23")) == 24


@pytest.mark.parametrize("scheme,key", [
    (DAILY, "2026-13-45"), (DAILY, "2026-02-30"), (DAILY, "2026-1-5"), (DAILY, "20260105"),
    (DAILY, "2026-01-05T03"), (DAILY, "yesterday"), (DAILY, ""), (DAILY, " 2026-01-05"),
    (HOURLY, "2026-01-05"), (HOURLY, "2026-01-05T3"), (HOURLY, "2026-01-05T24"),
    (HOURLY, "2026-01-05 03"), (HOURLY, "2026-01-05T03:00"),
])
def test_a_malformed_key_names_itself_the_scheme_and_the_expected_form(scheme: Partitions,
                                                                       key: str) -> None:
    with pytest.raises(PartitionKeyError) as info:
        scheme.validate(key)
    assert str(info.value) == (f"{key!r} is not a {scheme.kind} partition key; "
                               f"write it like {scheme.example!r}")


def test_a_key_before_the_first_partition_is_refused() -> None:
    with pytest.raises(PartitionKeyError, match="'2025-12-31' is before the first partition "
                                                "'2026-01-01'"):
        DAILY.validate("2025-12-31")
    with pytest.raises(PartitionKeyError, match="before the first partition '2026-01-01T00'"):
        HOURLY.end("2025-12-31T23")
    assert DAILY.validate("2026-01-01") == "2026-01-01"


def test_partition_key_errors_are_value_errors() -> None:
    assert issubclass(PartitionKeyError, ValueError)


@pytest.mark.parametrize("spec,kind", [("daily", "daily"), ("Hourly", "hourly"),
                                       (" daily ", "daily"), (None, "unpartitioned"),
                                       ("unpartitioned", "unpartitioned")])
def test_parse_partitions(spec: str | None, kind: str) -> None:
    parsed = parse_partitions(spec, START)
    assert parsed == Partitions(kind, START)
    assert parse_partitions(parsed, START) is parsed


def test_an_unknown_scheme_lists_the_known_ones() -> None:
    with pytest.raises(PartitionKeyError, match="'weekly' is not a partition scheme; use 'daily', "
                                                "'hourly' or 'unpartitioned'"):
        parse_partitions("weekly", START)
