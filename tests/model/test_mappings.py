"""Partition mappings: which upstream partitions a downstream partition reads, and the inverse."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from andon.model.partitions import Identity, LastN, Partitions, Rollup, last
from tests.conftest import utc

START = utc(2026, 1, 1)
DAILY = Partitions("daily", START)
HOURLY = Partitions("hourly", START)


def test_identity_reads_the_same_key() -> None:
    m = Identity()
    assert m.upstream_keys("2026-01-05", DAILY, DAILY) == ["2026-01-05"]
    assert m.downstream_keys("2026-01-05", DAILY, DAILY) == ["2026-01-05"]
    assert m.describe() == "identity"


def test_last_n_reads_the_window_ending_at_the_key_oldest_first() -> None:
    m = last(3)
    assert m == LastN(3) and m.describe() == "last 3"
    assert m.upstream_keys("2026-01-10", DAILY, DAILY) == ["2026-01-08", "2026-01-09",
                                                         "2026-01-10"]
    assert m.upstream_keys("2026-01-01T01", HOURLY, HOURLY) == ["2026-01-01T00", "2026-01-01T01"]


def test_last_n_is_clipped_at_the_scheme_start() -> None:
    m = LastN(7)
    assert m.upstream_keys("2026-01-01", DAILY, DAILY) == ["2026-01-01"]
    assert m.upstream_keys("2026-01-03", DAILY, DAILY) == ["2026-01-01", "2026-01-02",
                                                         "2026-01-03"]
    assert len(m.upstream_keys("2026-01-07", DAILY, DAILY)) == 7


def test_last_n_inverse_is_every_window_the_key_falls_in() -> None:
    assert LastN(3).downstream_keys("2026-01-31", DAILY, DAILY) == ["2026-01-31", "2026-02-01",
                                                                   "2026-02-02"]
    assert LastN(1).downstream_keys("2026-01-05", DAILY, DAILY) == ["2026-01-05"]


def test_a_window_needs_at_least_one_partition() -> None:
    with pytest.raises(ValueError, match=r"last\(0\): a window needs at least one partition"):
        last(0)


def test_rollup_reads_every_hour_of_the_day() -> None:
    m = Rollup()
    hours = m.upstream_keys("2026-01-05", DAILY, HOURLY)
    assert hours == [f"2026-01-05T{h:02d}" for h in range(24)]
    assert m.downstream_keys("2026-01-05T17", HOURLY, DAILY) == ["2026-01-05"]
    assert m.downstream_keys("2026-01-05T00", HOURLY, DAILY) == ["2026-01-05"]
    assert m.describe() == "roll-up"


@given(n=st.integers(1, 10), day=st.integers(0, 60), offset=st.integers(0, 60))
def test_last_n_upstream_and_downstream_are_inverse(n: int, day: int, offset: int) -> None:
    """Downstream partition d reads upstream u exactly when u's consumers include d."""
    up = DAILY.shift("2026-01-01", day)
    down = DAILY.shift("2026-01-01", offset)
    m = LastN(n)
    reads = up in m.upstream_keys(down, DAILY, DAILY)
    assert reads == (down in m.downstream_keys(up, DAILY, DAILY))


@given(day=st.integers(0, 30), hour=st.integers(0, 23))
def test_rollup_upstream_and_downstream_are_inverse(day: int, hour: int) -> None:
    hour_key = HOURLY.shift("2026-01-01T00", day * 24 + hour)
    (day_key,) = Rollup().downstream_keys(hour_key, HOURLY, DAILY)
    assert hour_key in Rollup().upstream_keys(day_key, DAILY, HOURLY)
    assert DAILY.begin(day_key) <= HOURLY.begin(hour_key) < DAILY.end(day_key)
