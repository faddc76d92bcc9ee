"""Fail-over of a team on PostgreSQL: ``kill -9`` of the leader while partitions flow.

Two real ``andon up`` share one PostgreSQL database (a throw-away server, as the tests start
one). Each trial notifies ``--partitions`` partitions of a source at a steady rate from a client
that sends each to either server and retries on connection errors and 503 (a standby forwards
writes to the leader; during a take-over nobody records); half-way through, the leader is
killed with SIGKILL. The standby takes over; a fresh ``andon up`` then joins as the next
standby, and the next trial kills the new leader. Measured:

- take-over time: from the kill to the first answer of the former standby's
  ``/api/v1/status`` saying ``role: leader`` (p50, p99; target p99 < 5 s);
- acknowledged events lost: notifications a server answered 2xx to that are not in the log (0);
- partition versions made twice: partitions of the pipeline's output with more than one
  version, each partition being notified once (0).

    .venv/bin/python benchmarks/bench_failover.py               # 50 trials x 200 partitions
    .venv/bin/python benchmarks/bench_failover.py --trials 3    # a quick look
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from benchlib import REPO, Result, figure, percentile

sys.path.insert(0, str(REPO))


def keys(first: int, n: int) -> list[str]:
    return [(date(2026, 1, 1) + timedelta(d)).isoformat() for d in range(first, first + n)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--partitions", type=int, default=200, help="notified per trial")
    parser.add_argument("--rate", type=float, default=100.0, help="notifications per second")
    parser.add_argument("--verbose", action="store_true", help="the new leader's last lines")
    args = parser.parse_args()
    from sqlalchemy import text
    from tests.pg import PostgresServer
    from tests.team.members import PIPELINES, Member, notify, until

    from andon.store.sql import Store

    result = Result("failover", f"{args.trials} trials of kill -9 of the leader of two andon up "
                    f"on one PostgreSQL database while {args.partitions} partitions are notified "
                    f"at {args.rate:g}/s (a retrying client, either server)")
    server = PostgresServer().start()
    folder = Path(tempfile.mkdtemp(prefix="andon-bench-failover-"))
    members: list[Member] = []
    takeovers: list[float] = []
    acked: list[str] = []
    try:
        url = server.create_database("failover")
        (folder / "andon.toml").write_text(
            '[project]\nname = "failover"\ndefinitions = ["pipelines.py"]\n'
            'start = "2026-01-01"\n\n[pools]\ndefault = 4\n')
        (folder / "pipelines.py").write_text(PIPELINES)
        members.append(Member(folder, url, folder / "state0").wait_serving())
        members.append(Member(folder, url, folder / "state1").wait_serving())
        token = members[0].token
        for trial in range(args.trials):
            leader, standby = members[-2], members[-1]
            batch = keys(trial * args.partitions, args.partitions)
            sent = threading.Event()

            def flow(batch: list[str] = batch, sent: threading.Event = sent,
                     urls: list[str] = [standby.url, leader.url]) -> None:  # noqa: B006
                for i, key in enumerate(batch):
                    t0 = time.monotonic()
                    notify(urls, token, key)  # retries until one of them takes it
                    acked.append(key)
                    if i == len(batch) // 2:
                        sent.set()
                    time.sleep(max(0.0, 1 / args.rate - (time.monotonic() - t0)))

            client = threading.Thread(target=flow)
            client.start()
            sent.wait()
            killed = time.monotonic()
            leader.kill9()
            assert until(lambda s=standby: s.status().get("role") == "leader", 60), \
                f"trial {trial}: no take-over: {standby.lines[-10:]}"
            takeovers.append(time.monotonic() - killed)
            client.join()
            members.append(Member(folder, url, folder / f"state{trial + 2}").wait_serving())
            print(f"  trial {trial + 1}: take-over {takeovers[-1]:.2f} s", flush=True)
            if args.verbose:
                print(f"  killed at {time.time() - (time.monotonic() - killed):.3f}",
                      *standby.lines[-8:], sep="\n    ")
        store = Store(url)
        try:
            want = set(acked)
            until(lambda: want <= {p.partition for p in store.partitions("clean")}, 120)
            lost = len(want - {p.partition for p in store.partitions("raw")})
            unmade = len(want - {p.partition for p in store.partitions("clean")})
            with store.read() as conn:
                twice = len(conn.execute(text(
                    "SELECT asset, partition FROM partition_versions GROUP BY asset, partition "
                    "HAVING count(*) > 1")).all())
        finally:
            store.close()
    finally:
        for member in members:
            member.stop()
        server.stop()
    details: dict[str, Any] = {"trials": args.trials, "partitions_per_trial": args.partitions,
                               "rate_per_s": args.rate, "acknowledged": len(acked),
                               "not_made_yet": unmade,
                               "takeover_s": [round(t, 3) for t in takeovers]}
    result.add(figure("take-over p50", percentile(takeovers, 50), "s"),
               figure("take-over p99", percentile(takeovers, 99), "s", target=5.0),
               figure("acknowledged events lost", lost, "events", target=1),
               figure("partition versions made twice", twice, "partitions", target=1))
    result.details = details
    print(f"take-over p50 {percentile(takeovers, 50):.2f} s, p99 "
          f"{percentile(takeovers, 99):.2f} s; acknowledged lost {lost} of {len(acked)}; "
          f"versions made twice {twice}")
    print(f"-> {result.write()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
