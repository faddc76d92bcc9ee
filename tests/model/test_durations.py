"""Human durations: what is accepted, and what a bad one is told."""

from __future__ import annotations

from datetime import timedelta

import pytest

from andon.model.durations import DurationFormatError, format_duration, parse_duration


@pytest.mark.parametrize("text,expected", [
    ("90s", timedelta(seconds=90)),
    ("20m", timedelta(minutes=20)),
    ("6h", timedelta(hours=6)),
    ("2d", timedelta(days=2)),
    ("350ms", timedelta(milliseconds=350)),
    ("1h30m", timedelta(hours=1, minutes=30)),
    ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
    ("1.5h", timedelta(minutes=90)),
    (" 6h ", timedelta(hours=6)),
    ("1h 30m", timedelta(hours=1, minutes=30)),
    ("0s", timedelta(0)),
    ("-30m", timedelta(minutes=-30)),  # a deadline may fall before the partition's end
    (45, timedelta(seconds=45)),
    (2.5, timedelta(seconds=2.5)),
    (0, timedelta(0)),
])
def test_accepted_forms(text: str | int | float, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", " ", "6", "6 hours", "h", "6x", "1h30", "6H", "soon",
                                  "--5m", "1h-30m", "1..5h", "m30", "6hh"])
def test_malformed_text_names_itself_and_the_accepted_forms(text: str) -> None:
    with pytest.raises(DurationFormatError) as info:
        parse_duration(text)
    message = str(info.value)
    assert message.startswith(f"{text!r} is not a duration")
    assert "'90s', '20m', '6h', '1h30m' or '2d'" in message


@pytest.mark.parametrize("text,suggestion", [
    ("6 hours", "6h"), ("6 hour", "6h"), ("6hrs", "6h"), ("20 minutes", "20m"), ("20 min", "20m"),
    ("90 seconds", "90s"), ("90 secs", "90s"), ("2 days", "2d"), ("500 milliseconds", "500ms"),
    ("6H", "6h"),
])
def test_spelled_out_units_get_the_short_form_suggested(text: str, suggestion: str) -> None:
    with pytest.raises(DurationFormatError, match=f"did you mean '{suggestion}'\\?"):
        parse_duration(text)


def test_no_suggestion_when_there_is_no_obvious_reading() -> None:
    with pytest.raises(DurationFormatError) as info:
        parse_duration("soon")
    assert "did you mean" not in str(info.value)


@pytest.mark.parametrize("value", [True, False, -1, -0.5])
def test_booleans_and_negative_numbers_are_refused(value: object) -> None:
    with pytest.raises(DurationFormatError):
        parse_duration(value)


def test_the_error_is_a_value_error() -> None:
    assert issubclass(DurationFormatError, ValueError)


@pytest.mark.parametrize("seconds,text", [
    (0.35, "350ms"), (4.3, "4.3s"), (42, "42s"), (65, "1m05s"), (3900, "1h05m"),
    (-65, "-1m05s"), (timedelta(hours=26), "26h00m"),
])
def test_format_duration(seconds: float | timedelta, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize("value", ["99999999999999d", 10**400, float("inf"), float("nan"), 1e300])
def test_endless_durations_are_format_errors_not_overflows(value: object) -> None:
    with pytest.raises(DurationFormatError, match="too long"):
        parse_duration(value)
