"""OpenLineage: each run's start, completion and failure as an OpenLineage RunEvent, with its
input and output datasets, so that andon's lineage shows up in Marquez, DataHub or OpenMetadata.

Events are written as JSON lines to a file (``openlineage_file``) and/or handed to a sender by one
thread that sleeps on its queue (no polling); the scheduler only puts events on the queue. The
documents follow the OpenLineage spec (2-0-2) and need no client library: the built-in sender
POSTs them to an HTTP endpoint (``openlineage_url``, e.g. Marquez's ``/api/v1/lineage``) and
retries a failing endpoint a few times. With ``openlineage_transport = 'client'`` the same
documents go through the openlineage-python client instead (``andon.lineage.client``, the
``andon[lineage]`` extra, imported only then), for its transports: HTTP with auth, Kafka, ...
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from andon.events import Event, PartitionRef, RunFailed, RunStarted, RunSucceeded
from andon.events.codec import format_time
from andon.model.errors import ConfigError

log = logging.getLogger("andon.lineage.emitter")
PRODUCER = "https://github.com/andon/andon"
SPEC = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/"
SCHEMA = SPEC + "RunEvent"
# a facet's _schemaURL names the schema of the facet: the spec's own one for errorMessage, the
# generic run and dataset facet for andon's (what the client's base classes say too)
RUN_FACET, DATASET_FACET = SPEC + "RunFacet", SPEC + "DatasetFacet"
ERROR_FACET = ("https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json"
               "#/$defs/ErrorMessageRunFacet")
ATTEMPTS = 3


def run_uuid(run_id: str) -> str:
    """A stable UUID per andon run (OpenLineage wants UUIDs; ours are readable ids)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"andon-run:{run_id}"))


def _dataset(namespace: str, asset: str, partition: str) -> dict[str, Any]:
    return {"namespace": namespace, "name": asset,
            "facets": {"partition": {"_producer": PRODUCER, "_schemaURL": DATASET_FACET,
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
                "facets": {"andon": {"_producer": PRODUCER, "_schemaURL": RUN_FACET,
                                     "runId": event.run_id,
                                     "partition": event.partition,
                                     "attempt": getattr(event, "attempt", 1)}}},
        "job": {"namespace": namespace, "name": str(event.pipeline)},
        "inputs": [_dataset(namespace, i.asset, i.partition) for i in ins],
        "outputs": [_dataset(namespace, a, p) for a, p in outs],
    }
    if isinstance(event, RunFailed):
        doc["run"]["facets"]["errorMessage"] = {
            "_producer": PRODUCER, "_schemaURL": ERROR_FACET, "programmingLanguage": "python",
            "message": f"{event.error_type}: {event.error_message}"[:2000]}
    return doc


class Sender(Protocol):
    """Delivers one document; called only from the emitter's thread, so it may block."""

    def send(self, doc: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


class HttpSender:
    """The built-in transport: POST the document to ``url``, a few attempts with back-off."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url, self.timeout = url, timeout

    def send(self, doc: dict[str, Any]) -> None:
        import urllib.error  # here: ssl and http.client are not every process's start-up cost
        import urllib.parse
        import urllib.request

        body = json.dumps(doc, separators=(",", ":")).encode()
        for attempt in range(1, ATTEMPTS + 1):
            req = urllib.request.Request(self.url, data=body, method="POST",
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

    def close(self) -> None:
        pass


def make_sender(transport: str, url: str, timeout: float) -> Sender | None:
    """The sender for ``openlineage_transport``: None when the built-in one has no URL. A
    ConfigError naming the setting and the fix when the client is asked for but not installed
    or cannot be set up; call it at start-up, so a bad configuration stops ``andon up``."""
    if transport == "builtin":
        return HttpSender(url, timeout) if url else None
    try:
        from andon.lineage.client import ClientSender
    except ImportError as exc:
        if not (exc.name or "").startswith("openlineage"):
            raise
        raise ConfigError("openlineage_transport 'client' needs the openlineage-python client, "
                          "which is not installed",
                          hint="pip install 'andon[lineage]', or set openlineage_transport = "
                               "'builtin'") from None
    try:
        return ClientSender(url, timeout)
    except (ValueError, TypeError, RuntimeError) as exc:  # what the client raises on bad config
        reason = str(exc).replace(url, "***") if url else str(exc)
        raise ConfigError(f"the OpenLineage client could not be set up: {reason}",
                          hint="check openlineage_url, openlineage.yml and the OPENLINEAGE_* "
                               "variables") from exc


class LineageEmitter:
    """Listens to committed events; writes and sends OpenLineage documents off the scheduler."""

    def __init__(self, namespace: str, sender: Sender | None = None,
                 file: Path | None = None) -> None:
        self.namespace, self.sender, self.file = namespace, sender, file
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
                break
            if self.file is not None:
                with self.file.open("a") as fh:
                    fh.write(json.dumps(doc, separators=(",", ":")) + "\n")
            if self.sender is not None:
                try:
                    self.sender.send(doc)
                except Exception as exc:  # a failing transport must not end the thread
                    log.warning("OpenLineage event for %s not sent: %s", doc["job"]["name"],
                                type(exc).__name__)
        if self.sender is not None:
            self.sender.close()

    def close(self, timeout: float = 5.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout)
