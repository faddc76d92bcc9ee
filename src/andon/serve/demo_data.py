"""The demo's week of source data: when each delivery lands (``schedule``), which days the
stories change (the late export, the cut-short exports, the bad FX rates, the customers' shift)
and the realistic-looking files themselves (``write_source``)."""

from __future__ import annotations

import os
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from andon.model.timefmt import day_key

FIRST_DAY = datetime(2026, 1, 5, tzinfo=UTC)
# source -> (typical arrival after the partition ends, jitter), in minutes
ARRIVALS = {"raw_orders": (120, 30), "raw_clickstream": (60, 45), "fx_rates": (30, 15)}
# the labels of a day (who bought on the day after) land once the next day's orders are in:
# a day and three hours after the day ends
LABELS, LABELS_ARRIVAL = "bought", (24 * 60 + 180, 30)
CURRENCIES = {"EUR": 1.0, "USD": 0.92, "GBP": 1.17}
# the day (from the first) customers change: a new site, three times the page views, and who
# buys tomorrow is who browsed most today (the serving model's features drift red; its realised
# AUC falls until retrained versions learn the new behaviour)
SHIFT_DAY = 3
LATE_DAY = 0  # the first day's order export hangs until the at-risk warning (demo_incidents)
BAD_DAY = 2  # the third day's FX rates land with a decimal point lost (demo_incidents)
BAD_CURRENCY, BAD_FACTOR = "GBP", 100.0


def day_of(d: int) -> str:
    """The partition key of the demo's day ``d`` (0 = the first)."""
    return day_key(FIRST_DAY + timedelta(days=d))


def schedule(days: int, seed: int = 7) -> list[tuple[datetime, str, str]]:
    """(arrival time, source, partition) for every source partition, in arrival order, as the
    sources would land them (the late export's story holds one of them back)."""
    rng = random.Random(seed)
    out = []
    for d in range(days):
        day = FIRST_DAY + timedelta(days=d)
        key = day_key(day)
        for source, (after, jitter) in ARRIVALS.items():
            minutes = after + rng.uniform(-jitter, jitter)
            out.append((day + timedelta(days=1, minutes=minutes), source, key))
    labels = random.Random(f"{seed}/{LABELS}")  # its own draws: the others' times stay as they were
    for d in range(days):
        after, jitter = LABELS_ARRIVAL
        minutes = after + labels.uniform(-jitter, jitter)
        out.append((FIRST_DAY + timedelta(days=d + 1, minutes=minutes), LABELS,
                    day_key(FIRST_DAY + timedelta(days=d))))
    return sorted(out)


def flaky_days(days: int) -> list[str]:
    """The days whose order export arrives cut short (the demo's recurring failure): the second
    day and the fifth (the last, in a shorter demo)."""
    if days < 2:
        return []
    return [day_key(FIRST_DAY + timedelta(days=d)) for d in sorted({1, min(4, days - 1)})]


def write_source(root: Path, source: str, key: str, cut_short: bool = False,
                 bad_rate: bool = False) -> Path:
    """Generate one day of realistic-looking source data and land it atomically; ``cut_short``:
    an order export whose job stopped mid-write (its last line has two of five fields);
    ``bad_rate``: FX rates with one rate's decimal point lost (``BAD_CURRENCY`` times
    ``BAD_FACTOR``)."""
    rng = random.Random(f"{source}/{key}")
    customers = [f"C{i:03d}" for i in range(1, 201)]
    if source == "raw_orders":
        path = root / "landing/orders" / f"{key}.csv"
        lines = _orders(rng, key, customers, _buyers(key, customers))
    elif source == LABELS:  # who bought on the next day: from that day's orders, as the shop's
        path = root / "landing/bought" / f"{key}.csv"
        after = day_key(datetime.fromisoformat(key) + timedelta(days=1))
        buyers = {line.split(",")[1] for line in _orders(
            random.Random(f"raw_orders/{after}"), after, customers, _buyers(after, customers))[1:]
            if float(line.split(",")[2]) > 0}
        lines = ["customer_id,bought"] + [f"{c},{int(c in buyers)}" for c in customers]
    elif source == "raw_clickstream":
        path = root / "landing/clicks" / f"{key}.csv"
        lines = _clicks(rng, key, customers)
    else:
        path = root / "landing/fx" / f"{key}.csv"
        rates = {c: r * (1 + rng.uniform(-0.01, 0.01)) for c, r in CURRENCIES.items()}
        if bad_rate:
            rates[BAD_CURRENCY] *= BAD_FACTOR
        lines = ["currency,rate_to_eur"] + [f"{c},{r:.5f}" for c, r in rates.items()]
    if cut_short:
        lines = lines[:int(len(lines) * rng.uniform(0.5, 0.9))]
        lines[-1] = ",".join(lines[-1].split(",")[:2])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp"
    tmp.write_text("\n".join(lines) + "\n")
    os.replace(tmp, path)  # lands whole: the inotify watcher sees one complete file
    return path


def shifted(key: str) -> bool:
    """Whether customers behave the new way on day ``key`` (from ``SHIFT_DAY`` on)."""
    return key >= day_key(FIRST_DAY + timedelta(days=SHIFT_DAY))


def _clicks(rng: random.Random, key: str, customers: list[str]) -> list[str]:
    """A day's clickstream (its header first): a few hundred sessions of any customer, a few
    page views each; three times as many from the shift on (the new site)."""
    lines = ["session_id,customer_id,page,ts"]
    low, high = (3, 18) if shifted(key) else (1, 6)
    for s in range(rng.randint(500, 700)):
        customer = rng.choice(customers)
        for _ in range(rng.randint(low, high)):
            lines.append(f"{key}-s{s:05d},{customer},/p/{rng.randint(1, 80)},{key}T12:00:00Z")
    return lines


def _buyers(key: str, customers: list[str]) -> list[str]:
    """Who orders on day ``key``: the first 120 customers, every day; from the shift on, the 120
    who browsed most the day before (what the model trained on before cannot know)."""
    if not shifted(key):
        return customers[:120]
    before = day_key(datetime.fromisoformat(key) - timedelta(days=1))
    views = Counter(line.split(",")[1] for line in _clicks(
        random.Random(f"raw_clickstream/{before}"), before, customers)[1:])
    return sorted(customers, key=lambda c: (-views[c], c))[:120]


def _orders(rng: random.Random, key: str, customers: list[str], buyers: list[str]
            ) -> list[str]:
    """A day's order export (its header first): a few hundred orders of the day's ``buyers``,
    some with a bad amount, a few rows duplicated."""
    lines = ["order_id,customer_id,amount,currency,ts"]
    for i in range(rng.randint(250, 350)):
        cur = rng.choice(list(CURRENCIES))
        amount = round(rng.lognormvariate(3.5, 0.6), 2) if rng.random() > 0.01 else -1.0
        lines.append(f"{key}-{i:05d},{rng.choice(buyers)},{amount},{cur},"
                     f"{key}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z")
        if rng.random() < 0.02:
            lines.append(lines[-1])  # the export duplicates a few rows
    return lines


