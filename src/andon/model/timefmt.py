"""How andon shows moments to people: one function per form, all in UTC.

The stored and JSON form of a moment is ``andon.events.codec.format_time`` (the log's contract);
durations are ``andon.model.durations.format_duration``. A partition key of a day is
``day_key``, the form ``Partitions`` of ``daily`` use.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

MINUTE = "%Y-%m-%d %H:%M"
DAY = "%Y-%m-%d"


def format_minute(moment: datetime | None, fmt: str = MINUTE) -> str:
    """``2026-01-05 06:00`` (or ``fmt``) in UTC; ``-`` for none."""
    return "-" if moment is None else moment.astimezone(UTC).strftime(fmt)


def day_key(moment: datetime) -> str:
    """``2026-01-05``: the key of the daily partition a UTC ``moment`` falls in."""
    return moment.strftime(DAY)


def short_time(moment: datetime | None, day: datetime) -> str:
    """``06:00`` on ``day``, ``01-05 06:00`` on another day; ``-`` for none (the board's
    timelines, where the day is the page's)."""
    if moment is None:
        return "-"
    return moment.strftime("%H:%M" if moment.date() == day.date() else "%m-%d %H:%M")


def plan_time(moment: datetime, now: datetime) -> str:
    """``02:35`` (``02:35:10`` when the seconds are not zero) on the day of ``now``,
    ``2026-01-07 02:35`` on another day (the plan's reasons, in sentences)."""
    text = moment.strftime("%H:%M:%S" if moment.second else "%H:%M")
    return text if moment.date() == now.date() else f"{moment:%Y-%m-%d} {text}"


def tick_label(tick: datetime) -> str:
    """A time axis's label: ``01-05`` at midnight, ``06:00`` at any other hour."""
    return tick.strftime("%m-%d") if tick.hour == 0 else tick.strftime("%H:%M")


def hours_minutes(delta: timedelta) -> str:
    """A span in whole minutes: ``1h05m``, ``40m`` (a deadline, a drift on the board)."""
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m"
