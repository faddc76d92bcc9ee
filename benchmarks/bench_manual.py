"""Grouping quality of the manual's signatures (issue 12): a generated corpus of failures from
distinct causes (messages varying in numbers, ids, hashes, paths, partitions, URLs, e-mail
addresses and quoted values; several causes sharing an exception class; some the same message
from two pipelines), grouped by ``andon.manual.signature.signature``; pairwise precision (pairs
put together that are the same cause) and recall (pairs of the same cause put together)."""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable

from benchlib import Result, enable_bytecode, figure

from andon.events import Frame
from andon.manual.signature import signature

Gen = Callable[[random.Random], str]


def day(r: random.Random) -> str:
    return f"2026-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"


def hour(r: random.Random) -> str:
    return f"{day(r)}T{r.randint(0, 23):02d}"


def path(r: random.Random) -> str:
    root = r.choice(["/data/raw", "/mnt/lake/bronze", "/srv/exports", "./tmp/stage"])
    return f"{root}/{day(r)}/part-{r.randint(0, 9999):05d}.{r.choice(['csv', 'parquet'])}"


def winpath(r: random.Random) -> str:
    return rf"{r.choice('CDE')}:\exports\{r.choice(['sales', 'crm'])}_{day(r)}.csv"


def word(r: random.Random) -> str:
    return r.choice(["n/a", "NULL", "abc", "12,5", "", "—", "customer_"]) + str(r.randint(0, 999))


def hexid(r: random.Random) -> str:
    return f"{r.getrandbits(64):016x}"


def uid(r: random.Random) -> str:
    return str(uuid.UUID(int=r.getrandbits(128)))


def num(r: random.Random) -> str:
    return str(r.choice([r.randint(0, 10), r.randint(100, 10**6), round(r.uniform(-1e3, 1e3), 2)]))


# (pipeline, exception, innermost user frame, message template)
CAUSES: list[tuple[str, str, Frame, Gen]] = [
    ("daily_sales", "ValueError", Frame("lib/parse.py", "parse_amount"),
     lambda r: f"could not convert string to float: '{word(r)}'"),
    ("daily_sales", "ValueError", Frame("lib/parse.py", "parse_date"),
     lambda r: f"time data '{r.randint(1, 28)}/{r.randint(1, 12)}/2026' does not match format "
               "'%Y-%m-%d'"),
    ("daily_sales", "ValueError", Frame("pipelines.py", "daily_sales"),
     lambda r: f"negative amount {num(r)} in row {r.randint(1, 10**6)} of {path(r)}"),
    ("daily_sales", "FileNotFoundError", Frame("lib/load.py", "read_export"),
     lambda r: f"[Errno 2] No such file or directory: '{path(r)}'"),
    ("daily_sales", "KeyError", Frame("lib/join.py", "enrich"),
     lambda r: f"'customer_{r.randint(1, 10**5)}'"),
    ("daily_sales", "TimeoutError", Frame("lib/fetch.py", "get_export"),
     lambda r: f"timed out after {r.randint(5, 600)}s fetching https://crm.example.com/export?"
               f"day={day(r)}&page={r.randint(1, 50)}"),
    ("daily_sales", "RuntimeError", Frame("pipelines.py", "daily_sales"),
     lambda r: f"upstream export for {day(r)} not ready ({r.randint(0, 99)}% uploaded)"),
    ("weekly_sales", "RuntimeError", Frame("pipelines.py", "weekly_sales"),
     lambda r: f"upstream export for {day(r)} not ready ({r.randint(0, 99)}% uploaded)"),
    ("weekly_sales", "ValueError", Frame("lib/parse.py", "parse_amount"),
     lambda r: f"could not convert string to float: '{word(r)}'"),
    ("weekly_sales", "AssertionError", Frame("pipelines.py", "weekly_sales"),
     lambda r: f"expected {r.randint(1, 10**6)} rows, got {r.randint(1, 10**6)}"),
    ("weekly_sales", "ZeroDivisionError", Frame("lib/metrics.py", "margin"),
     lambda r: "division by zero"),
    ("weekly_sales", "OSError", Frame("lib/load.py", "read_export"),
     lambda r: f"[Errno 28] No space left on device: '{path(r)}'"),
    ("orders", "KeyError", Frame("pipelines.py", "orders"),
     lambda r: f"'{r.choice(['amount', 'price', 'qty', 'sku'])}'"),
    ("orders", "ValueError", Frame("lib/validate.py", "check_schema"),
     lambda r: f'column "{r.choice(["amount", "price", "qty"])}" missing in partition {hour(r)}'),
    ("orders", "ValueError", Frame("lib/validate.py", "check_rows"),
     lambda r: f"duplicate order id {uid(r)} in {path(r)}"),
    ("orders", "ConnectionError", Frame("lib/fetch.py", "get_orders"),
     lambda r: f"HTTPSConnectionPool(host='api.shop.example', port=443): Max retries exceeded "
               f"with url: /v2/orders?since={day(r)} (Caused by NewConnectionError)"),
    ("orders", "PermissionError", Frame("lib/load.py", "open_share"),
     lambda r: f"[Errno 13] Permission denied: '{winpath(r)}'"),
    ("orders", "RuntimeError", Frame("lib/checksum.py", "verify"),
     lambda r: f"checksum mismatch for {path(r)}: expected {hexid(r)} got {hexid(r)}"),
    ("customers", "RuntimeError", Frame("lib/checksum.py", "verify"),
     lambda r: f"checksum mismatch for {path(r)}: expected {hexid(r)} got {hexid(r)}"),
    ("customers", "KeyError", Frame("lib/join.py", "enrich"),
     lambda r: f"'customer_{r.randint(1, 10**5)}'"),
    ("customers", "ValueError", Frame("lib/mail.py", "normalise"),
     lambda r: f"invalid e-mail address {r.choice(['ana', 'bo.li', 'x_y'])}{r.randint(1, 99)}@"
               f"{r.choice(['example.com', 'corp.example.org'])} in row {r.randint(1, 10**5)}"),
    ("customers", "UnicodeDecodeError", Frame("lib/load.py", "read_export"),
     lambda r: f"'utf-8' codec can't decode byte 0x{r.randint(128, 255):x} in position "
               f"{r.randint(0, 10**6)}: invalid start byte"),
    ("customers", "MemoryError", Frame("pipelines.py", "customers"), lambda r: ""),
    ("customers", "RecursionError", Frame("lib/tree.py", "walk"),
     lambda r: "maximum recursion depth exceeded while calling a Python object"),
    ("inventory", "TypeError", Frame("lib/metrics.py", "stock_value"),
     lambda r: "unsupported operand type(s) for *: 'NoneType' and 'float'"),
    ("inventory", "TypeError", Frame("lib/metrics.py", "stock_value"),
     lambda r: "'<' not supported between instances of 'str' and 'int'"),
    ("inventory", "ValueError", Frame("lib/parse.py", "parse_qty"),
     lambda r: f"invalid literal for int() with base 10: '{word(r)}'"),
    ("inventory", "sqlite3.OperationalError", Frame("lib/db.py", "write_snapshot"),
     lambda r: "database is locked"),
    ("inventory", "sqlite3.IntegrityError", Frame("lib/db.py", "write_snapshot"),
     lambda r: f"UNIQUE constraint failed: stock.sku (sku {r.randint(10**5, 10**6)})"),
    ("inventory", "RuntimeError", Frame("pipelines.py", "inventory"),
     lambda r: f"warehouse {r.randint(1, 40)} sent {r.randint(0, 10**4)} rows for {day(r)}, "
               f"fewer than the {r.randint(10**4, 10**5)} expected"),
    ("forecast", "ValueError", Frame("lib/model.py", "fit"),
     lambda r: f"Input contains NaN, infinity or a value too large for dtype('float64'): "
               f"{r.randint(1, 500)} of {r.randint(500, 10**4)} rows"),
    ("forecast", "FileNotFoundError", Frame("lib/model.py", "load_weights"),
     lambda r: f"[Errno 2] No such file or directory: '/models/forecast/{uid(r)}/weights.bin'"),
    ("forecast", "RuntimeError", Frame("lib/model.py", "fit"),
     lambda r: f"job {uid(r)} on host gpu-{r.randint(1, 9)} lost at {hour(r)}:{r.randint(0, 59):02d}"),
    ("forecast", "KeyError", Frame("lib/model.py", "features"),
     lambda r: f"'lag_{r.randint(1, 30)}'"),
]


def corpus(n: int, seed: int = 12) -> list[tuple[int, str, str, str, tuple[Frame, ...]]]:
    """``n`` failures: (cause, pipeline, exception, message, frames), causes drawn unevenly."""
    rng = random.Random(seed)
    weights = [rng.randint(1, 10) for _ in CAUSES]
    out = []
    for cause in rng.choices(range(len(CAUSES)), weights, k=n):
        pipeline, exc, frame, make = CAUSES[cause]
        outer = Frame("pipelines.py", pipeline)
        frames = (outer,) if frame == outer else (outer, frame)
        out.append((cause, pipeline, exc, make(rng), frames))
    return out


def pairs(counts: Counter[object]) -> int:
    return sum(c * (c - 1) // 2 for c in counts.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--failures", type=int, default=5000)
    args = parser.parse_args()
    enable_bytecode()
    result = Result("manual", f"grouping of {args.failures:,} generated failures from "
                    f"{len(CAUSES)} causes by their signatures: pairwise precision and recall")
    failures = corpus(args.failures)
    t0 = time.perf_counter()
    sigs = [signature(p, e, m, f).id for _c, p, e, m, f in failures]
    seconds = time.perf_counter() - t0
    causes = [c for c, *_ in failures]
    together = pairs(Counter(zip(causes, sigs, strict=True)))
    precision = together / max(pairs(Counter(sigs)), 1)
    recall = together / max(pairs(Counter(causes)), 1)
    for name, value, target in (("pairwise precision", precision, 0.95),
                                ("pairwise recall", recall, 0.90)):
        fig = figure(name, value, "ratio", note=f"target >= {target}")
        fig.update(target_min=target, **{"pass": value >= target})
        result.add(fig)
    result.add(figure("signature time per failure", seconds / len(failures) * 1e6, "µs"))
    result.details = {"failures": len(failures), "causes": len(set(causes)),
                      "signatures": len(set(sigs))}
    print(f"{len(failures)} failures, {len(set(causes))} causes -> {len(set(sigs))} signatures; "
          f"precision {precision:.4f}, recall {recall:.4f}")
    print(f"-> {result.write()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
