"""The openlineage-python client as andon's OpenLineage transport (``openlineage_transport =
'client'``, the ``andon[lineage]`` extra).

andon still builds its documents (``andon.lineage.run_event``); here each becomes the client's
RunEvent, whose validators check it on the way, and goes out through the client's transport, on
the emitter's one sender thread. With ``openlineage_url`` that is HTTP to exactly that URL;
without, the client configures itself its standard way (``OPENLINEAGE_CONFIG`` or
``openlineage.yml``, ``OPENLINEAGE_URL`` / ``OPENLINEAGE_API_KEY``, ``OPENLINEAGE__TRANSPORT__*``),
which is how users get auth, Kafka, console, file and the other transports. Only
``andon.lineage.make_sender`` imports this module, and only when asked: the core install and a
cold ``andon`` start never load the client.
"""

from __future__ import annotations

import logging
from typing import Any

import attr
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import DatasetFacet, RunFacet, error_message_run
from openlineage.client.transport.http import HttpConfig, HttpTransport

log = logging.getLogger("andon.lineage.emitter")


@attr.define
class AndonRunFacet(RunFacet):
    """Run facet ``andon``: andon's readable run id, the partition and the attempt."""

    runId: str  # noqa: N815 (the name in the document)
    partition: str
    attempt: int


@attr.define
class PartitionDatasetFacet(DatasetFacet):
    """Dataset facet ``partition``: the partition key of the asset read or written."""

    key: str


RUN_FACETS: dict[str, type[RunFacet]] = {"andon": AndonRunFacet,
                                         "errorMessage": error_message_run.ErrorMessageRunFacet}
DATASET_FACETS: dict[str, type[DatasetFacet]] = {"partition": PartitionDatasetFacet}


def _facets(facets: dict[str, Any], classes: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, body in facets.items():
        if name not in classes:  # run_event grew a facet: give it a class here
            raise ValueError(f"no client class for the OpenLineage facet {name!r}")
        fields = {k: v for k, v in body.items() if not k.startswith("_")}
        out[name] = classes[name](producer=body["_producer"], **fields)
    return out


def client_event(doc: dict[str, Any]) -> RunEvent:
    """The client's RunEvent for one of andon's documents; serialised by the client it is the
    same document (tests/lineage checks both ways)."""
    return RunEvent(
        eventType=RunState[doc["eventType"]], eventTime=doc["eventTime"], producer=doc["producer"],
        run=Run(runId=doc["run"]["runId"], facets=_facets(doc["run"]["facets"], RUN_FACETS)),
        job=Job(namespace=doc["job"]["namespace"], name=doc["job"]["name"], facets=None),
        inputs=[InputDataset(namespace=d["namespace"], name=d["name"], inputFacets=None,
                             facets=_facets(d["facets"], DATASET_FACETS)) for d in doc["inputs"]],
        outputs=[OutputDataset(namespace=d["namespace"], name=d["name"], outputFacets=None,
                               facets=_facets(d["facets"], DATASET_FACETS))
                 for d in doc["outputs"]])


class ClientSender:
    """An ``andon.lineage.Sender`` that emits through an OpenLineageClient."""

    def __init__(self, url: str = "", timeout: float = 10.0) -> None:
        transport = None
        if url:  # the whole endpoint URL, as for the built-in sender: no endpoint to append
            transport = HttpTransport(HttpConfig.from_dict({"url": url, "endpoint": "",
                                                            "timeout": timeout}))
        self.client = OpenLineageClient(transport=transport)
        log.info("OpenLineage events go out through the client's %s transport",
                 self.client.transport.kind)

    def send(self, doc: dict[str, Any]) -> None:
        self.client.emit(client_event(doc))

    def close(self) -> None:
        close = getattr(self.client, "close", None)  # older clients have none
        if close is not None:
            close(5.0)
