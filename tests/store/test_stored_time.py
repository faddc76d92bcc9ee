"""``format_time``: the stored form of a time, fixed-width ISO-8601 UTC, the same text whatever
the zone a moment carries (the form the log has always stored, so old and new rows sort together)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from andon.events.codec import format_time, parse_time

MOMENTS = [
    datetime(2026, 1, 5, tzinfo=UTC),  # no microseconds: still six digits
    datetime(2026, 1, 5, 3, 4, 5, 12, tzinfo=UTC),
    datetime(1970, 1, 1, tzinfo=UTC),
    datetime(2026, 6, 1, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5))),  # next day
    datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=2))),  # previous day
    datetime(9999, 12, 31, 23, tzinfo=UTC),
    datetime(5, 1, 1, tzinfo=UTC),  # a year below 1000: the form strftime writes
]


@pytest.mark.parametrize("moment", MOMENTS, ids=str)
def test_the_stored_form_is_strftime_of_the_utc_moment(moment: datetime) -> None:
    assert format_time(moment) == moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if moment.year >= 1000:
        assert len(format_time(moment)) == 27
        assert parse_time(format_time(moment)) == moment


def test_stored_forms_sort_as_the_moments_do() -> None:
    ordered = sorted(m for m in MOMENTS if m.year >= 1000)
    assert sorted(format_time(m) for m in ordered) == [format_time(m) for m in ordered]
