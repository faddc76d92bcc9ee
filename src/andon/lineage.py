"""OpenLineage: each run's start, completion and failure as an OpenLineage RunEvent, with its
input and output datasets, so that andon's lineage shows up in Marquez, DataHub or OpenMetadata.

Events are written as JSON lines to a file (``openlineage_file``) and/or POSTed to an HTTP
endpoint (``openlineage_url``, e.g. Marquez's ``/api/v1/lineage``) by one sender thread that sleeps
on its queue (no polling) and retries a failing endpoint a few times; the scheduler only puts
events on the queue. The documents follow the OpenLineage spec (2-0-2) and need no client library.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from andon.events import Event, PartitionRef, RunFailed, RunStarted, RunSucceeded, format_time

log = logging.getLogger("andon.lineage")
PRODUCER = "https://github.com/andon/andon"
SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
ATTEMPTS = 3


def run_uuid(run_id: str) -> str:
    """A stable UUID per andon run (OpenLineage wants UUIDs; ours are readable ids)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"andon-run:{run_id}"))


def _dataset(namespace: str, asset: str, partition: str) -> dict[str, Any]:
    return {"namespace": namespace, "name": asset,
            "facets": {"partition": {"_producer": PRODUCER, "_schemaURL": SCHEMA,
                                     "key": partition}}}


def run_event(event: RunStarted | RunSucceeded | RunFailed, namespace: str,
              inputs: Sequence[PartitionRef] = ()) -> dict[str, Any]:
    """The OpenLineage RunEvent for a run.started, run.succeeded or run.failed event."""
    kind = {RunStarted: "START", RunSucceeded: "COMPLETE", RunFailed: "FAIL"}[type(event)]
    ins = getattr(event, "inputs", ()) or inputs
    outs = [(o.asset, o.partition) for o in getattr(event, "outputs", ())]
    doc: dict[str, Any] = {
        "eventType": kind, "eventTime": format_time(event.at), "producer": PRODUCER,
        "schemaURL": SCHEMA,
        "run": {"runId": run_uuid(str(event.run_id)),
                "facets": {"andon": {"_producer": PRODUCER, "_schemaURL": SCHEMA,
                                     "runId": event.run_id,
                                     "partition": event.partition,
                                     "attempt": getattr(event, "attempt", 1)}}},
        "job": {"namespace": namespace, "name": str(event.pipeline)},
        "inputs": [_dataset(namespace, i.asset, i.partition) for i in ins],
        "outputs": [_dataset(namespace, a, p) for a, p in outs],
    }
    if isinstance(event, RunFailed):
        doc["run"]["facets"]["errorMessage"] = {
            "_producer": PRODUCER, "_schemaURL": SCHEMA, "programmingLanguage": "python",
            "message": f"{event.error_type}: {event.error_message}"[:2000]}
    return doc


class LineageEmitter:
    """Listens to committed events; writes and sends OpenLineage documents off the scheduler."""

    def __init__(self, namespace: str, url: str = "", file: Path | None = None,
                 timeout: float = 10.0) -> None:
        self.namespace, self.url, self.file, self.timeout = namespace, url, file, timeout
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._work, name="andon-lineage", daemon=True)
        self._thread.start()

    def on_events(self, events: Sequence[Event]) -> None:
        for ev in events:
            if isinstance(ev, (RunStarted, RunSucceeded, RunFailed)):
                self._queue.put(run_event(ev, self.namespace))

    def _work(self) -> None:
        while True:
            doc = self._queue.get()
            if doc is None:
                return
            line = json.dumps(doc, separators=(",", ":"))
            if self.file is not None:
                with self.file.open("a") as fh:
                    fh.write(line + "\n")
            if self.url:
                self._post(line)

    def _post(self, body: str) -> None:
        for attempt in range(1, ATTEMPTS + 1):
            req = urllib.request.Request(self.url, data=body.encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=self.timeout):
                    return
            except (urllib.error.URLError, OSError) as exc:
                if attempt == ATTEMPTS:  # the URL may hold a token: log only the host
                    log.warning("OpenLineage endpoint %s refused an event after %d attempts: %s",
                                urllib.parse.urlsplit(self.url).hostname, attempt,
                                type(exc).__name__)
                    return
                time.sleep(0.5 * 2 ** (attempt - 1))

    def close(self, timeout: float = 5.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout)
