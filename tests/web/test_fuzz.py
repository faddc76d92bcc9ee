"""API fuzzing with schemathesis: requests generated from ``/api/v1/openapi.json`` of a real
running server (runner, store, uvicorn), valid ones and malformed ones. No generated request may
get a 5xx.

schemathesis's Python API drives it (load the document, one Hypothesis strategy per operation
and generation mode, ``Case.call`` and the ``not_a_server_error`` check), not its
``@schema.parametrize`` pytest integration: one test against one live server, whose state the
write operations change as they go. So that those operations reach their real work rather than
stop at "not found", the generated names are often swapped (all of them, some, or none) for
objects that exist (data sets, pipelines, partition keys, runs, a cord and the output it
quarantined, spare tokens to revoke), and the token is drawn from admin, operator, viewer and
none (those stay valid: the fuzzer never learns their ids). The event streams are fuzzed too,
by their status line.
Derandomized: the same requests every run (ANDON_FUZZ_EXAMPLES=200 digs deeper, at random).
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

from andon.model.tokens import digest
from andon.serve.up import Line
from tests.web.conftest import PIPELINES, make_token, running

# per operation and mode: ~850 requests in all, about 15 s (ANDON_FUZZ_EXAMPLES=200 to dig)
EXAMPLES = int(os.environ.get("ANDON_FUZZ_EXAMPLES", "25"))
DAYS = [f"2026-01-{d:02d}" for d in range(1, 8)]
ROLES = ("admin", "operator", "admin", "operator", "viewer", None)
NAMES = ("real", "real", "mixed", "generated")  # swap in existing objects: all, some, none
# fields whose existing objects depend on the operation: a restore names the seeded cord's
# quarantined output (any data set and day would almost always name none: 404)
PER_OPERATION: dict[str, dict[str, list[Any]]] = {
    "POST /api/v1/cords/{cord_id}/restore": {"asset": ["report"], "partition": [DAYS[0]]},
    # a pull needs a partition that exists and has no cord yet (the seeded one is on clean's
    # first day) and a reason: left to chance, a derandomized run may never name one
    "POST /api/v1/cords": {"asset": ["raw"], "partition": DAYS[:3], "reason": ["fuzzing"]},
    "POST /api/v1/access-requests": {"asset": ["crm"], "reason": ["fuzzing"]},
    # a date far enough ahead and a reason: generated ones are past, too soon or no dates
    "POST /api/v1/deprecations": {"name": ["raw", "crm"], "delete_after": ["2099-01-31"],
                                  "reason": ["fuzzing"]},
    # a resolution with a valid note, link and commit, now and then
    "POST /api/v1/manual/{entry_id}/resolve": {"note": ["fuzzed fix"],
                                               "link": ["https://example.com/fix"],
                                               "commit": ["abc1234"]},
    # a query to search for: the generated ones are mostly empty or refused (which of them a
    # derandomized run draws moves with the constants in the code; a real word always answers)
    "GET /api/v1/search": {"q": ["raw", "clean"]},
    # an entry's fields (a generated name is rarely an identifier); "raw" is the definitions'
    "POST /api/v1/catalog/entries": {
        "kind": ["model", "dataset"], "name": ["fuzzed_model", "raw"],
        "owner": ["ml@example.com"], "team": ["ml"], "tags": [["ml"]],
        "links": [{"docs": "https://docs.example.com"}], "lifecycle": ["active", "beta"],
        "access": ["https://access.example.com"]},
    # a model that exists, and its versions (report's runs make them)
    "POST /api/v1/models/{name}/promote": {"name": ["churn"], "version": [1, 2, 3]},
    "POST /api/v1/models/{name}/rollback": {"name": ["churn"]},
    "GET /api/v1/models/{name}": {"name": ["churn"]},
    "GET /api/v1/drift/{asset}": {"asset": ["report"]},
    "POST /api/v1/catalog/entries/{kind}/{name}/remove": {
        "kind": ["model", "dataset"], "name": ["seeded_model", "raw"]}}


# a consumer whose outputs a cord quarantines: something for the restore operation to restore
QUARANTINING = PIPELINES + """
andon.source("crm", access={"note": "ask the CRM team"})

@andon.pipeline(inputs=["clean"], outputs=["report"], bad_outputs="quarantine",
                models=["churn"], locations={"report": "data/report/{partition}.csv"})
def report(ctx):
    ctx.output("report").write_text("ok\\n")

andon.profile("report")  # a profiled data set for GET /api/v1/drift/{asset}
"""


@pytest.fixture
def line(make_project) -> Iterator[Line]:  # type: ignore[no-untyped-def]
    root = make_project(QUARANTINING)
    (root / "catalog.toml").write_text('[[entries]]\nkind = "model"\nname = "churn"\n'
                                       'owner = "ml@example.com"\n')
    with running(root) as line:
        yield line


def _seed(line: Line) -> dict[str, list[str]]:
    """Make a few partitions (and their runs) and pull a cord, which quarantines a report;
    return the names of what exists, per field name of the API."""
    now = datetime.now(UTC)
    for key in DAYS[:3]:
        path = line.project.root / f"data/raw/{key}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"a\n{key}\n")
        line.runner.submit(line.service.notify("raw", key, now)).result(10)
    assert line.runner.drain()
    pulled = line.service.cord_pull("clean", DAYS[0], "fuzzing", now, "test")
    assert line.runner.submit(pulled).result(10)
    assert line.runner.drain()  # the quarantine is submitted after the pull's turn
    assert [o["state"] for o in line.store.cord_outputs(pulled.cord_id)] == ["quarantined"]
    runs = [r["run_id"] for r in line.service.runs(pipeline="clean")]
    assert len(runs) == 3
    declared = line.service.catalog.declare({"kind": "model", "name": "seeded_model",
                                             "owner": "ml@example.com"}, now, "test")
    assert line.runner.submit(declared).result(10)  # for the fuzzer to remove
    # tokens for the fuzzer to revoke: never the ones it sends, which stay valid throughout
    spare = [digest(make_token(line, "viewer"))[:12] for _ in range(3)]
    # an access request to decide, and consumers to drop (the tokens are named by their role)
    desk = line.service.access
    asked = desk.request("crm", "test", "fuzzing", None, {}, "", now)
    subscribed = [desk.subscribe("crm", role, None, now, role, None) for role in ROLES if role]
    assert all(f.result(10) for f in map(line.runner.submit, [asked, *subscribed]))
    return {"asset": ["raw", "clean"], "pipeline": ["clean"], "partition": DAYS, "from": DAYS,
            "to": DAYS, "run_id": runs, "cord_id": [pulled.cord_id], "token_id": spare,
            "request_id": [asked.request_id], "kind": ["dataset", "pipeline"],
            "entry_id": [e.id for e in line.service.manual.entries(now)],
            "name": ["crm", "raw", "clean"]}


def _streams(document: dict[str, Any]) -> set[str]:
    """``METHOD /path`` of the operations that answer with an event stream."""
    return {f"{method.upper()} {path}" for path, item in document["paths"].items()
            for method, op in item.items()
            if any("text/event-stream" in r.get("content", {}) for r in op["responses"].values())}


def test_no_generated_request_gets_a_server_error(line: Line) -> None:
    url = line.url + "/api/v1/openapi.json"
    schema = schemathesis.openapi.from_url(url)
    streams = _streams(httpx.get(url).json())
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 16, "every documented operation is fuzzed"
    known = _seed(line)
    tokens = {role: make_token(line, role) for role in ROLES if role}
    strategy = st.one_of(*(op.as_strategy(generation_mode=mode) for op in operations
                           for mode in GenerationMode))
    statuses: dict[str, Counter[int]] = defaultdict(Counter)
    session = requests.Session()

    @given(case=strategy, data=st.data())
    @settings(max_examples=EXAMPLES * len(operations) * 2, deadline=None,
              derandomize="ANDON_FUZZ_EXAMPLES" not in os.environ,  # a deeper dig is random
              database=None, suppress_health_check=list(HealthCheck))
    def fuzz(case: schemathesis.Case, data: st.DataObject) -> None:
        operation = f"{case.method} {case.operation.path}"
        real = {**known, **PER_OPERATION.get(operation, {})}
        names = data.draw(st.sampled_from(NAMES), label="names")
        for values in (case.path_parameters, case.query, case.body):
            if names == "generated" or not isinstance(values, dict):
                continue
            for name in sorted(set(values) & set(real)):
                if names == "real" or data.draw(st.booleans(), label=f"real {name}"):
                    values[name] = data.draw(st.sampled_from(real[name]), label=name)
        role = data.draw(st.sampled_from(ROLES), label="role")
        auth = {"Authorization": f"Bearer {tokens[role]}"} if role else {}
        if operation in streams:  # never ends (or not soon): the status line is the answer
            kwargs = case.as_transport_kwargs(base_url=line.url, headers=auth)
            with session.request(**kwargs, stream=True, timeout=10) as response:
                status = response.status_code
            assert status < 500, f"{status} from {case.as_curl_command(headers=auth)}"
        else:
            answer = case.call(base_url=line.url, session=session, headers=auth, timeout=10)
            status = answer.status_code
            case.validate_response(answer, checks=[not_a_server_error])
        statuses[operation][status] += 1

    try:
        fuzz()
    finally:
        session.close()
    assert len(statuses) == len(operations), f"only {sorted(statuses)} were tried"
    # each operation did its real work at least once (not only refusals of what it was sent)
    idle = {op: dict(s) for op, s in statuses.items()
            if not any(code < 400 or code == 409 for code in s)}
    assert not idle, f"never got past validation: {idle}"
    assert all(line.store.token_role(digest(value)) for value in tokens.values()), \
        "the tokens the fuzzer sends were never revoked"
