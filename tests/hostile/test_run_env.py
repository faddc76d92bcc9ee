"""No secret reaches a run unless declared. A run's environment is built explicitly (a base
allow-list, andon's run variables, the pipeline's ``env=`` and ``secrets=``); andon's own
settings (ANDON_*: the API token, the SMTP password, the database URL) never reach it, even
inherited; a declared secret's value is masked in the run's log. Real processes, forked and
spawned, and a real ``andon up`` with canary secrets set."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from andon.events import RunSucceeded
from andon.executors.base import spec_for
from andon.executors.environment import base_environment, run_environment
from andon.executors.inprocess import InProcessExecutor
from andon.executors.local import LocalProcessExecutor
from andon.model.errors import DefinitionError
from andon.project.load import Project, load_project
from tests.executors.helpers import Reports, project_with_raw, wait_until
from tests.web.conftest import make_token, running

CANARY = "canary-5e1d77a0c3f94b2e"
DAY = "2026-01-05"

PIPELINES = r'''
import hashlib
import json
import os
from pathlib import Path

import andon

andon.source("raw", location="data/raw/{partition}.csv")


@andon.pipeline(inputs=["raw"], outputs=["dump"], env=["RUN_REGION"], secrets=["WAREHOUSE_KEY"])
def dump(ctx):
    print("ENVIRON", json.dumps(dict(os.environ)))
    print("PROC", Path("/proc/self/environ").read_bytes().decode(errors="replace"))
    print("the key is", os.environ.get("WAREHOUSE_KEY"))
    digest = hashlib.sha256(os.environ.get("WAREHOUSE_KEY", "").encode()).hexdigest()
    ctx.output("dump").write_text(digest + "\n" + os.environ.get("RUN_REGION", "") + "\n")


@andon.pipeline(inputs=["raw"], outputs=["bare"])
def bare(ctx):
    ctx.output("bare").write_text(json.dumps(sorted(os.environ)))
    print("ENVIRON", json.dumps(dict(os.environ)))


andon.pipeline("shell_env", inputs=["raw"], outputs=["shell_env"], secrets=["WAREHOUSE_KEY"],
               command="env; echo key=$WAREHOUSE_KEY; env | sort > $ANDON_OUTPUT_SHELL_ENV")
'''

# what the scheduler's environment holds: andon's own secrets, undeclared and declared ones
HOSTILE_ENVIRON = {
    "ANDON_API_TOKEN": CANARY + "-token",
    "ANDON_SMTP_PASSWORD": CANARY + "-smtp",
    "ANDON_DATABASE_URL": f"postgresql+psycopg://andon:{CANARY}-db@127.0.0.1/andon",
    "ANDON_OPENLINEAGE_URL": f"http://127.0.0.1:1/api?api_key={CANARY}-ol",
    "ANDON_ANYTHING_ELSE": CANARY + "-other",
    "AWS_SECRET_ACCESS_KEY": CANARY + "-undeclared",
    "WAREHOUSE_KEY": CANARY + "-declared",
    "RUN_REGION": "eu-west-1",
}


def _environ() -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("ANDON_")},
            **HOSTILE_ENVIRON}


@pytest.fixture
def project(make_project) -> Project:  # type: ignore[no-untyped-def]
    return project_with_raw(make_project, PIPELINES, DAY)


@pytest.fixture(params=["fork", "spawn"])
def executor(request: pytest.FixtureRequest, project: Project) -> Iterator[LocalProcessExecutor]:
    ex = LocalProcessExecutor(kill_grace=0.5, fork=request.param == "fork", environ=_environ(),
                              server_names=["RUN_REGION"])
    ex.warm(str(project.root))
    yield ex
    ex.shutdown()


def _run(project: Project, executor: object, pipeline: str) -> tuple[str, Path]:
    s = spec_for(project.graph, f"{pipeline}:{DAY}:1", pipeline, DAY, 1, project.root,
                 project.root / ".andon/runs")
    reports = Reports()
    executor.start(s, reports)  # type: ignore[attr-defined]
    result = reports.wait(s.run_id)
    assert result.ok, result
    return s.log_path.read_text(), Path(s.outputs[pipeline])


def _environ_line(log: str) -> dict[str, str]:
    line = next(x for x in log.splitlines() if x.startswith("ENVIRON "))
    return dict(json.loads(line.split(" ", 1)[1]))


def test_a_run_gets_only_the_base_its_declared_names_and_andons_variables(
        project: Project, executor: LocalProcessExecutor) -> None:
    log, output = _run(project, executor, "dump")
    assert CANARY not in log, "a secret reached the run's log"
    seen = _environ_line(log)
    assert seen["RUN_REGION"] == "eu-west-1" and seen["WAREHOUSE_KEY"] == "***"  # masked
    assert not [k for k in seen if k.startswith("ANDON_")]  # a function gets none at all
    assert "AWS_SECRET_ACCESS_KEY" not in seen
    assert set(seen) <= set(run_environment(_environ(), ["RUN_REGION"], ["WAREHOUSE_KEY"]))
    assert "PATH" in seen and "the key is ***" in log
    # ... but the run really had the secret's value: its output holds its digest
    digest = hashlib.sha256((CANARY + "-declared").encode()).hexdigest()
    assert output.read_text().splitlines() == [digest, "eu-west-1"]


def test_an_undeclared_pipeline_gets_no_declared_name(project: Project,
                                                      executor: LocalProcessExecutor) -> None:
    log, output = _run(project, executor, "bare")
    names = json.loads(output.read_text())
    assert "WAREHOUSE_KEY" not in names and "AWS_SECRET_ACCESS_KEY" not in names
    assert not [n for n in names if n.startswith("ANDON_")]
    assert CANARY not in log


def test_a_shell_step_gets_andons_run_variables_but_none_of_its_settings(
        project: Project, executor: LocalProcessExecutor) -> None:
    log, output = _run(project, executor, "shell_env")
    assert CANARY not in log and "key=***" in log
    lines = output.read_text().splitlines()  # the output is the step's own: not masked
    assert f"WAREHOUSE_KEY={CANARY}-declared" in lines
    andon = sorted(x.split("=", 1)[0] for x in lines if x.startswith("ANDON_"))
    assert andon == ["ANDON_ATTEMPT", "ANDON_INPUT_RAW", "ANDON_OUTPUT_SHELL_ENV",
                     "ANDON_PARTITION", "ANDON_PIPELINE", "ANDON_RUN_ID"]
    assert not [x for x in lines if CANARY in x and not x.startswith("WAREHOUSE_KEY=")]


def test_the_fork_server_itself_holds_no_secret(project: Project) -> None:
    ex = LocalProcessExecutor(kill_grace=0.5, environ=_environ(), server_names=["RUN_REGION"])
    try:
        if not ex.fork:
            pytest.skip("this kernel has no pidfd: runs are spawned, there is no fork server")
        ex.warm(str(project.root))
        server = ex._servers[str(project.root)]
        path = Path(f"/proc/{server.pid}/environ")  # empty while the server is still exec'ing
        wait_until(lambda: path.read_bytes(), "the fork server's environment")
        environ = path.read_bytes().decode()
        assert CANARY not in environ
        assert "RUN_REGION=eu-west-1" in environ.split("\0")  # declared env= for imports
    finally:
        ex.shutdown()


def test_the_inprocess_executor_isolates_shell_steps(project: Project) -> None:
    ex = InProcessExecutor(lambda name: project.graph.pipelines[name].fn, _environ())
    log, output = _run(project, ex, "shell_env")
    assert CANARY not in log and "key=***" in log
    assert not [x for x in output.read_text().splitlines()
                if x.startswith(("ANDON_API", "ANDON_SMTP", "ANDON_DATABASE", "AWS_"))]


def test_base_environment_never_passes_andon_names() -> None:
    env = {"PATH": "/bin", "LC_ALL": "C", "ANDON_API_TOKEN": "x", "OTHER": "y"}
    assert base_environment(env, ["ANDON_API_TOKEN", "OTHER"]) == {
        "PATH": "/bin", "LC_ALL": "C", "OTHER": "y"}


@pytest.mark.parametrize("option,value,says", [
    ("env", '["ANDON_API_TOKEN"]', "ANDON_* variables are andon's own"),
    ("secrets", '["ANDON_SMTP_PASSWORD"]', "ANDON_* variables are andon's own"),
    ("env", '["andon_database_url"]', "ANDON_* variables are andon's own"),
    ("secrets", '["MY-KEY"]', "not environment variable names"),
    ("env", '["1ST"]', "not environment variable names"),
    ("env", '[""]', "not environment variable names"),
    ("env", '["A=B"]', "not environment variable names"),
    ("env", '"HOME"', "must be a list"),
    ("secrets", '[3]', "must be a list"),
    ("secrets", '{"K": "v"}', "must be a list"),
])
def test_bad_env_and_secrets_fail_validation_naming_the_file(make_project, option: str,  # type: ignore[no-untyped-def]
                                                             value: str, says: str) -> None:
    root = make_project(f'''
import andon
andon.source("raw")
andon.pipeline("p", inputs=["raw"], outputs=["out"], command="true", {option}={value})
''')
    with pytest.raises(DefinitionError) as err:
        load_project(root)
    text = str(err.value)
    assert says in text and "pipelines.py" in text and f"{option}=" in text and "'p'" in text


def test_secret_canary_in_a_real_andon_up(make_project, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """The secret canary extended to run environments: with andon's secrets set in the
    scheduler's environment, a real ``andon up`` (local executor, real processes) runs pipelines
    that print their whole environment; no canary is in the logs, the outputs, the run files or
    /api/v1/runs/{id}/log."""
    for name, value in HOSTILE_ENVIRON.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ANDON_DATABASE_URL")  # the store is the project's own SQLite file
    monkeypatch.setenv("ANDON_API_TOKEN", CANARY + "-token")
    root = make_project(PIPELINES)
    raw = root / "data/raw"
    raw.mkdir(parents=True)
    (raw / f"{DAY}.csv").write_text("a\n")
    with running(root, os.environ, executor="local") as line, \
            httpx.Client(base_url=line.url, timeout=10) as client:
        assert line.settings.smtp_password == CANARY + "-smtp"  # the canary is in use
        auth = {"Authorization": f"Bearer {make_token(line, 'operator')}"}
        r = client.post("/api/v1/notify", json={"asset": "raw", "partition": DAY}, headers=auth)
        assert r.status_code == 201, r.text

        def done() -> bool:
            line.runner.drain(0.05)
            ended = {e.pipeline for _, e in line.store.events() if isinstance(e, RunSucceeded)}
            return ended >= {"dump", "bare", "shell_env"}

        wait_until(done, "the three runs succeeded")
        runs = client.get("/api/v1/runs?limit=100").json()
        assert {r["status"] for r in runs} == {"succeeded"}
        for run in runs:
            r = client.get(f"/api/v1/runs/{run['run_id']}/log")
            assert r.status_code == 200 and r.text
            assert CANARY not in r.text, f"the canary leaks in the log of {run['run_id']}"
        logs = [client.get(f"/api/v1/runs/{r['run_id']}/log").text for r in runs]
        assert any("ENVIRON" in text for text in logs) and any("key=***" in t for t in logs)
    for path in list((root / ".andon").rglob("*")) + list((root / "data").rglob("*")):
        if path.is_file() and path.name != "andon.db" and not path.name.startswith("andon.db"):
            text = path.read_text(errors="replace")
            for name in ("token", "smtp", "ol", "other", "undeclared"):
                assert f"{CANARY}-{name}" not in text, f"the canary leaks in {path}"
