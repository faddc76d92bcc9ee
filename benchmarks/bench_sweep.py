"""Agreed deletions never delete data read after its notice: a randomised lifecycle simulation.

``--datasets`` data sets (10,000) are deprecated at random times over half a year, each with a
date at least ``[sweep] notice_days`` (14) ahead, checked by the real ``deprecation_problem``.
Each is read at random times by 0 to 4 consumers; some consumers move off it before the notice,
some after, some never. A sweep runs every day (``[sweep] every = "1d"``) and builds its plan
with the real code (``andon.sweep.plan.build``, which calls ``deletion_verdict``) from the reads
that have happened by then (each consumer's last read of each data set, as the store's ``reads``
table holds them); a data set the plan deletes is gone from that day on. The figure is
the number of deletions of a data set that some consumer read after its notice and before the
sweep that deleted it (must be 0); beside it, how many were deleted, how many blocked by a read,
and the reads that came after the deletion (consumers that never moved: they find the data gone,
which the notice and the blocked deletion were there to prevent as far as reads show them).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta

from benchlib import Result, enable_bytecode, figure

from andon.events.codec import format_time
from andon.project.retention import SweepPolicy
from andon.store.lifecycle import Deprecation, StoredVersion
from andon.sweep.plan import build
from andon.sweep.rules import Read, deprecation_problem

START = datetime(2026, 1, 1, tzinfo=UTC)
DAYS = 270


def simulate(n: int, seed: int, notice_days: int) -> dict[str, int | float]:
    rng = random.Random(seed)
    policy = SweepPolicy(notice_days=notice_days)
    deps: dict[str, Deprecation] = {}
    reads: list[Read] = []
    refused_dates = 0
    for i in range(n):
        name = f"ds{i}"
        noticed = START + timedelta(seconds=rng.uniform(0, 180 * 86400))
        # some owners ask for too short a notice first: refused, then they give a later date
        wanted = (noticed + timedelta(days=rng.randint(0, 60))).date().isoformat()
        while deprecation_problem(wanted, noticed, notice_days) is not None:
            refused_dates += 1
            wanted = (noticed + timedelta(days=notice_days + rng.randint(0, 45))).date().isoformat()
        deps[name] = Deprecation("dataset", name, wanted, "", "", "sim", "", (name,),
                                 format_time(noticed), None, "")
        for c in range(rng.randint(0, 4)):
            stop = rng.choice(["before", "after", "never"])
            end = (noticed - timedelta(days=rng.uniform(0, 10)) if stop == "before" else
                   noticed + timedelta(days=rng.uniform(0, 30)) if stop == "after" else
                   START + timedelta(days=DAYS))
            at = START + timedelta(seconds=rng.uniform(0, 86400 * 5))
            while at < end:
                reads.append(Read(name, f"c{i}-{c}", at))
                at += timedelta(seconds=rng.expovariate(1 / (86400 * rng.uniform(0.5, 7))))
    reads.sort(key=lambda r: r.at)
    deleted_at: dict[str, datetime] = {}
    versions = {name: [StoredVersion(name, "all", 1, "", "", f"data/{name}", 1)]
                for name in deps}
    blocked_by_read: set[str] = set()
    plan_seconds = 0.0
    # what the store's ``reads`` table holds: each consumer's last read of each data set so far
    last: dict[tuple[str, str], Read] = {}
    upto = 0
    for day in range(DAYS + 1):
        now = START + timedelta(days=day, hours=3)
        while upto < len(reads) and reads[upto].at <= now:
            last[(reads[upto].asset, reads[upto].reader)] = reads[upto]
            upto += 1
        pending = [d for d in deps.values() if d.object not in deleted_at]
        seen = [r for (asset, _), r in last.items() if asset not in deleted_at]
        t0 = time.perf_counter()
        plan = build(format_time(now), policy, pending, versions, seen, {}, (), {})
        plan_seconds += time.perf_counter() - t0
        blocked_by_read.update(b.object for b in plan.blocked if b.reader)
        for item in plan.deletions:
            deleted_at.setdefault(item.asset, now)
    violations = 0
    late_readers = 0
    for r in reads:
        gone = deleted_at.get(r.asset)
        if gone is None:
            continue
        noticed = datetime.fromisoformat(deps[r.asset].noticed_at.replace("Z", "+00:00"))
        if noticed < r.at <= gone:
            violations += 1
        elif r.at > gone:
            late_readers += 1
    return {"datasets": n, "reads": len(reads), "deleted": len(deleted_at),
            "blocked_by_a_read": len(blocked_by_read), "violations": violations,
            "reads_after_deletion": late_readers, "dates_refused": refused_dates,
            "sweeps": DAYS + 1, "plan_seconds_total": round(plan_seconds, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--notice-days", type=int, default=14)
    args = parser.parse_args()
    enable_bytecode()
    result = Result("sweep", f"randomised lifecycle of {args.datasets:,} data sets with reads at "
                    "random times, swept daily with the real rules: deletions of data read "
                    "after its notice")
    out = simulate(args.datasets, args.seed, args.notice_days)
    fig = figure("deletions of data read after its notice", out["violations"], "deletions",
                 note="must be 0")
    fig.update(target_max=0, **{"pass": out["violations"] == 0})
    result.add(fig, figure("data sets deleted", out["deleted"], "data sets"),
               figure("deletions blocked by a read after the notice",
                      out["blocked_by_a_read"], "data sets"),
               figure("plan time per daily sweep", out["plan_seconds_total"] / out["sweeps"],
                      "s"))
    result.details = out
    print(out)
    print(f"-> {result.write()}")
    return 0 if out["violations"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
