"""A separate process that appends to a store, for the concurrency and crash tests.

    python appender.py URL PREFIX COUNT [BATCH]

Prints ``ready`` and waits for a line on stdin (so that several appenders start together), opens
(and so migrates) the store, then appends COUNT batches of BATCH ``partition.available`` events (ids
``PREFIX-i-j``, all for the same partition, each with new content) and prints ``acked ID`` after
each append returned. With COUNT 0 it appends until it is killed.
"""

from __future__ import annotations

import itertools
import sys
from datetime import UTC, datetime

from andon.events import PartitionAvailable
from andon.store.sql import Store


def main(url: str, prefix: str, count: int, batch: int) -> None:
    print("ready", flush=True)
    sys.stdin.readline()
    store = Store(url)
    for i in itertools.count() if count == 0 else range(count):
        events = [PartitionAvailable(id=f"{prefix}-{i}-{j}", at=datetime.now(UTC), asset="shared",
                                     partition="2026-01-05", fingerprint=f"{prefix}-{i}-{j}")
                  for j in range(batch)]
        store.append(events)
        print("\n".join(f"acked {e.id}" for e in events), flush=True)
    store.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else 1)
