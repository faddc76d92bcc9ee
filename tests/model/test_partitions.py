"""Partition schemes: keys, windows in time, and clear errors for bad keys."""

from __future__ import annotations

from datetime import timedelta

import pytest

from andon.model.partitions import (
    UNPARTITIONED_KEY,
    AfterLastPartition,
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


# [project] end = "2026-01-11": the schemes stop at midnight after that day (exclusive)
UNTIL = utc(2026, 1, 12)
DAILY_TO = Partitions("daily", START, UNTIL)
HOURLY_TO = Partitions("hourly", START, UNTIL)


def test_the_last_partition_is_the_one_before_the_end() -> None:
    assert DAILY_TO.last_key == "2026-01-11"
    assert HOURLY_TO.last_key == "2026-01-11T23"  # every hour of the last day
    assert DAILY.last_key is None  # no end: partitions go on
    assert Partitions("unpartitioned", START, UNTIL).last_key is None


def test_a_key_after_the_last_partition_is_refused_naming_the_last_one() -> None:
    assert DAILY_TO.validate("2026-01-11") == "2026-01-11"
    assert HOURLY_TO.validate("2026-01-11T23") == "2026-01-11T23"
    with pytest.raises(AfterLastPartition) as info:
        DAILY_TO.validate("2026-01-12")
    assert str(info.value) == "'2026-01-12' is after the last partition '2026-01-11'"
    with pytest.raises(AfterLastPartition, match="after the last partition '2026-01-11T23'"):
        HOURLY_TO.validate("2026-01-12T00")
    assert issubclass(AfterLastPartition, PartitionKeyError)
    # a malformed key is still reported as malformed, not as after the end
    with pytest.raises(PartitionKeyError, match="is not a daily partition key"):
        DAILY_TO.validate("2026-13-01")
    assert Partitions("unpartitioned", START, UNTIL).validate("all") == "all"


def test_keys_after_the_end_still_parse_for_what_the_log_holds() -> None:
    # a log written before end was moved earlier must stay readable
    assert DAILY_TO.begin("2026-02-01") == utc(2026, 2, 1)
    assert DAILY_TO.end("2026-01-12") == utc(2026, 1, 13)
    assert DAILY_TO.after_end("2026-01-12") and not DAILY_TO.after_end("2026-01-11")
    assert not DAILY.after_end("2099-01-01")


def test_keys_stop_at_the_last_partition() -> None:
    assert DAILY_TO.keys("2026-01-10", "2026-01-20") == ["2026-01-10", "2026-01-11"]
    assert DAILY_TO.keys("2026-01-12", "2026-01-20") == []
    assert HOURLY_TO.keys("2026-01-11T22", "2026-01-12T05") == ["2026-01-11T22", "2026-01-11T23"]
    assert parse_partitions("daily", START, UNTIL) == DAILY_TO


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
