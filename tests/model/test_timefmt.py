"""The display forms of moments and durations, one function each, as their callers showed them."""

from datetime import UTC, datetime, timedelta, timezone

from andon.model.durations import format_duration
from andon.model.timefmt import day_key, format_minute, plan_time, short_time, tick_label

DAY = datetime(2026, 1, 5, 6, 0, tzinfo=UTC)


def test_format_minute_is_utc_to_the_minute_or_a_dash() -> None:
    assert format_minute(DAY) == "2026-01-05 06:00"
    assert format_minute(DAY.astimezone(timezone(timedelta(hours=2)))) == "2026-01-05 06:00"
    assert format_minute(DAY + timedelta(seconds=7), "%Y-%m-%d %H:%M:%S") == "2026-01-05 06:00:07"
    assert format_minute(None) == "-"


def test_day_key_is_the_daily_partition_key() -> None:
    assert day_key(DAY) == "2026-01-05"


def test_short_time_names_the_date_only_off_the_day() -> None:
    assert short_time(DAY, DAY) == "06:00"
    assert short_time(DAY + timedelta(days=1), DAY) == "01-06 06:00"
    assert short_time(None, DAY) == "-"


def test_plan_time_shows_seconds_only_when_there_are_some() -> None:
    assert plan_time(DAY, DAY) == "06:00"
    assert plan_time(DAY + timedelta(seconds=10), DAY) == "06:00:10"
    assert plan_time(DAY + timedelta(days=2, minutes=35), DAY) == "2026-01-07 06:35"


def test_tick_label_is_the_date_at_midnight_else_the_hour() -> None:
    assert tick_label(DAY.replace(hour=0)) == "01-05"
    assert tick_label(DAY) == "06:00"


def test_format_duration_compact_and_rounded() -> None:
    assert [format_duration(s) for s in (0.35, 4.21, 42.4, 245, 119.6, 3900)] == \
        ["350ms", "4.2s", "42s", "4m05s", "2m00s", "1h05m"]
    assert format_duration(timedelta(minutes=-5)) == "-5m00s"


def _pages_form(s: float) -> str:
    """The runs pages' own formatter before there was one (kept here to pin its output)."""
    if s < 1:
        return f"{s * 1000:.0f} ms"
    if s < 60:
        return f"{s:.1f} s" if s < 10 else f"{s:.0f} s"
    if s < 3600:
        return f"{int(s // 60)}m{int(s % 60):02d}s"
    return f"{int(s // 3600)}h{int(s % 3600 // 60):02d}m"


def test_format_duration_spaced_is_the_pages_form() -> None:
    assert [format_duration(s, spaced=True) for s in (0.85, 4.21, 12, 245, 119.6, 7800)] == \
        ["850 ms", "4.2 s", "12 s", "4m05s", "1m59s", "2h10m"]
    for s in (0, 0.0004, 0.9999, 1, 9.96, 59.4, 59.6, 60, 3599.9, 3600, 86399.5, 123456.7):
        assert format_duration(s, spaced=True) == _pages_form(s), s
