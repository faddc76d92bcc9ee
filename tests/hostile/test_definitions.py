"""Hostile definitions: names that are paths, locations that leave the project, endless lengths
of time, dates datetime cannot hold, and modules that exit or never finish importing.

Each is refused at load naming the file (and line), the object and the fix, exits 2 from a real
`andon validate`, and leaves nothing written: the project folder holds what it held before.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from andon.model.errors import ConfigError, DefinitionError
from andon.model.limits import MAX_NAME, NAME_RE, location_problem, name_problem
from andon.model.partitions import PartitionKeyError, Partitions, last
from andon.project.load import load_project
from tests.conftest import ProjectFactory, utc
from tests.web.conftest import make_token, running

ANDON = str(Path(sys.executable).with_name("andon"))


def files_of(root: Path) -> set[str]:
    """Everything under ``root`` but Python's own byte-code caches."""
    return {str(p.relative_to(root)) for p in root.rglob("*") if "__pycache__" not in p.parts}


def validate(root: Path, timeout: float = 60) -> str:
    """Run the real `andon validate` expecting exit 2; return stderr (nothing on stdout, no
    traceback, a hint, nothing new in the project folder)."""
    before = files_of(root)
    proc = subprocess.run([ANDON, "--project", str(root), "validate"], capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stdout == ""
    assert proc.stderr.startswith("Error: ")
    assert "\n  hint: " in proc.stderr
    assert "Traceback" not in proc.stderr
    assert files_of(root) == before
    return proc.stderr


def refused(root: Path) -> str:
    """The DefinitionError text of loading ``root`` in-process."""
    with pytest.raises(DefinitionError) as info:
        load_project(root)
    return str(info.value)


def at(root: Path, marker: str) -> str:
    path = root / "pipelines.py"
    for number, text in enumerate(path.read_text().splitlines(), 1):
        if text.rstrip().endswith(f"# <- {marker}"):
            return f"{path}:{number}"
    raise AssertionError(marker)


# -- names are identifiers -------------------------------------------------------------------------

BAD_NAMES = ["a/b", "..", "../etc", "a=b", "", "x" * 5000, "-lead", "has space", ".hidden",
             "tab\tname", "nul\0name", "x" * (MAX_NAME + 1), "ünïcode", "a\nb", "<i id=x>"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_source_name_that_is_not_an_identifier(make_project: ProjectFactory, name: str) -> None:
    root = make_project(f"""\
        import andon
        andon.source({name!r})  # <- source
        """)
    text = refused(root)
    assert f"{at(root, 'source')}: source name " in text
    assert ("is not an identifier" in text) or (f"longer than {MAX_NAME} characters" in text)
    assert len(text) < 1000  # a 5,000-character name is shown shortened


@pytest.mark.parametrize("name", ["a/b", "..", "a=b", "x" * 5000])
def test_a_pipeline_output_and_check_name_that_is_not_an_identifier(
        make_project: ProjectFactory, name: str) -> None:
    root = make_project(f"""\
        import andon
        andon.source("raw")
        andon.pipeline({name!r}, command="true", inputs=["raw"], outputs=["ok"])  # <- pipe
        andon.pipeline("fine", command="true", inputs=["raw"], outputs=[{name!r}])  # <- out

        @andon.check("ok", name={name!r})  # <- check
        def c(ctx):
            return True
        """)
    text = refused(root)
    assert f"{at(root, 'pipe')}: pipeline name " in text
    assert f"{at(root, 'out')}: output of pipeline 'fine': data set name " in text
    assert f"{at(root, 'check')}: check name " in text


def test_a_pool_name_that_is_not_an_identifier(make_project: ProjectFactory) -> None:
    root = make_project("import andon\n", pools={"default": 2, '"a/b"': 1})
    text = refused(root)
    assert f"{root / 'andon.toml'}:8: pool name 'a/b' is not an identifier" in text


@pytest.mark.parametrize("name", ["a", "_x", "raw_orders", "orders.v2", "model-7", "A" * MAX_NAME])
def test_identifiers_pass(name: str) -> None:
    assert name_problem("source", name) is None


def test_every_problem_at_once_from_the_real_command(make_project: ProjectFactory) -> None:
    root = make_project("""\
        import andon
        andon.source("raw/x")  # <- slash
        andon.source("")  # <- empty
        andon.source("ok", location="/etc/{partition}")  # <- absolute
        andon.pipeline("p", command="true", inputs=["ok"], outputs=["o"], timeout="31d",
                       locations={"o": "../../{partition}"})  # <- escape
        """)
    err = validate(root)
    assert "5 problem(s) in the definitions" in err
    for marker in ("slash", "empty", "absolute"):
        assert at(root, marker) in err
    assert "timeout='31d': timeout is longer than the most andon accepts (30 days)" in err
    assert "locations['o']='../../{partition}' resolves to" in err


# -- locations stay inside the project or its data roots -------------------------------------------

@pytest.mark.parametrize("option", [
    'location="/etc/{partition}"', 'location="../{partition}.csv"',
    'location="data/../../{partition}"', 'watch="../landing/{partition}.csv"',
    'watch="/tmp/landing/{partition}.csv"', 'location="data/{partition}/../../../x"',
    'location="."', 'location="data/.."'])
def test_a_source_location_outside_the_project(make_project: ProjectFactory, option: str) -> None:
    root = make_project(f"""\
        import andon
        andon.source("raw", {option})  # <- raw
        """)
    text = refused(root)
    assert f"{at(root, 'raw')}: source 'raw': " in text
    assert ("outside the project folder; write a path inside the project, or add its folder to "
            "[project] data_roots in andon.toml" in text) or (f"is the folder {root} itself" in text)


def test_an_output_location_outside_the_project(make_project: ProjectFactory) -> None:
    root = make_project("""\
        import andon
        andon.source("raw")

        @andon.pipeline(inputs=["raw"], outputs=["clean"],
                        locations={"clean": "/var/tmp/{asset}/{partition}"})  # <- clean
        def clean(ctx):
            pass
        """)
    text = refused(root)
    assert "pipeline 'clean': locations['clean']='/var/tmp/{asset}/{partition}' resolves to " \
           "/var/tmp/clean/2026-01-01, outside the project folder" in text


@pytest.mark.parametrize("template", ["data/{foo}/{partition}", "data/{0}", "data/{partition.x}",
                                      "data/{", " ", "data/\0/{partition}"])
def test_a_location_that_cannot_be_filled_in(make_project: ProjectFactory, template: str) -> None:
    root = make_project(f"""\
        import andon
        andon.source("raw", location={template!r})  # <- raw
        """)
    assert f"{at(root, 'raw')}: source 'raw': location=" in refused(root)


def test_data_roots_admit_locations_outside_the_project(make_project: ProjectFactory,
                                                        tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    root = make_project(f"""\
        import andon
        andon.source("raw", location="{lake}/raw/{{partition}}.csv")
        andon.source("near", location="../shared/{{partition}}")

        @andon.pipeline(inputs=["raw"], outputs=["clean"],
                        locations={{"clean": "{lake}/clean/{{partition}}"}})
        def clean(ctx):
            pass
        """)
    (root / "andon.toml").write_text((root / "andon.toml").read_text().replace(
        "[pools]", f'data_roots = ["{lake}", "../shared"]\n\n[pools]'))
    graph = load_project(root).graph
    assert graph.data_roots == (str(lake), str(root.parent / "shared"))
    assert graph.assets["clean"].location_of("2026-01-05") == f"{lake}/clean/2026-01-05"
    # a data root is not a licence to leave it
    (root / "pipelines.py").write_text(
        f'import andon\nandon.source("raw", location="{lake}/../elsewhere/{{partition}}")\n')
    assert f"outside the project folder and its [project] data_roots ({lake}, " in refused(root)


@pytest.mark.parametrize("value", ['"/data/lake"', '[1]', '[""]'])
def test_malformed_data_roots(make_project: ProjectFactory, value: str) -> None:
    root = make_project("import andon\n")
    (root / "andon.toml").write_text((root / "andon.toml").read_text().replace(
        "[pools]", f"data_roots = {value}\n\n[pools]"))
    with pytest.raises(ConfigError, match="is not a list of folders") as info:
        load_project(root)
    assert info.value.where == f"{root / 'andon.toml'}:6"


# -- lengths of time and dates within bounds -------------------------------------------------------

@pytest.mark.parametrize(("option", "limit"), [
    ('deadline="367d"', "366 days"), ('deadline="-367d"', "366 days"),
    ('expected_duration="8d"', "7 days"), ('retry_delay="8d"', "7 days"),
    ('timeout="31d"', "30 days"), ("timeout=10**12", "30 days")])
def test_a_length_of_time_beyond_the_limit(make_project: ProjectFactory, option: str,
                                           limit: str) -> None:
    root = make_project(f"""\
        import andon
        andon.source("raw")
        andon.pipeline("p", command="true", inputs=["raw"], outputs=["o"], {option})  # <- p
        """)
    text = refused(root)
    assert f"{at(root, 'p')}: pipeline 'p': {option.split('=')[0]}=" in text
    assert f"is longer than the most andon accepts ({limit}); give a shorter one" in text


@pytest.mark.parametrize("value", ['"99999999999999d"', "float('inf')", "float('nan')",
                                   "10**400", '"367d"'])
def test_an_endless_expected_arrival(make_project: ProjectFactory, value: str) -> None:
    root = make_project(f"""\
        import andon
        andon.source("raw", expected_arrival={value})  # <- raw
        """)
    assert f"{at(root, 'raw')}: source 'raw': expected_arrival=" in refused(root)


def test_a_window_beyond_a_year_of_hours(make_project: ProjectFactory) -> None:
    with pytest.raises(ValueError, match="a window holds at most 8784 partitions"):
        last(10**9)
    root = make_project("""\
        import andon
        andon.source("raw")
        andon.pipeline("p", command="true", inputs=[andon.window("raw", 10**9)],  # <- p
                       outputs=["o"])
        """)
    text = refused(root)
    assert f"{at(root, 'p')}: importing pipelines.py failed: ValueError: last(1000000000)" in text


@pytest.mark.parametrize("key", ["9999-12-31", "0001-01-01", "1969-12-31", "9999-12-31T23"])
def test_keys_outside_the_supported_years_are_key_errors(key: str) -> None:
    for scheme in (Partitions("daily", utc(1970, 1, 1)), Partitions("hourly", utc(1970, 1, 1))):
        with pytest.raises(PartitionKeyError):
            scheme.validate(key)
        with pytest.raises(PartitionKeyError):
            scheme.end(key)
    with pytest.raises(PartitionKeyError, match="outside the supported partitions"):
        Partitions("daily", utc(1970, 1, 1)).shift("9998-12-31", 1)


@pytest.mark.parametrize(("key", "value"), [("start", '"0001-01-01"'), ("start", '"9999-12-31"'),
                                            ("end", '"9999-12-31"'), ("start", '"1969-12-31"')])
def test_project_start_and_end_outside_the_supported_years(make_project: ProjectFactory,
                                                           key: str, value: str) -> None:
    root = make_project("import andon\n", **({"end": value} if key == "end" else {}))
    if key == "start":
        toml = root / "andon.toml"
        toml.write_text(toml.read_text().replace('start = "2026-01-01"', f"start = {value}"))
    with pytest.raises(ConfigError, match="outside the supported partitions") as info:
        load_project(root)
    assert info.value.where == f"{root / 'andon.toml'}:{4 if key == 'start' else 5}"


# -- definitions that exit or never finish ---------------------------------------------------------

@pytest.mark.parametrize(("body", "said"), [
    ("sys.exit()", "called sys.exit(None)"), ("sys.exit(0)", "called sys.exit(0)"),
    ("sys.exit(3)", "called sys.exit(3)"), ("sys.exit('bye')", "called sys.exit('bye')"),
    ("raise SystemExit", "called sys.exit(None)"), ("exit()", "called sys.exit(None)"),
    ("raise KeyboardInterrupt", "failed: KeyboardInterrupt"),
    ("raise BaseException('odd')", "failed: BaseException: odd")])
def test_a_module_that_exits_fails_the_load(make_project: ProjectFactory, body: str,
                                            said: str) -> None:
    root = make_project(f"""\
        import sys
        import andon
        andon.source("raw")
        {body}  # <- exit
        """)
    err = validate(root)
    assert err.startswith(f"Error: {at(root, 'exit')}: importing pipelines.py {said}")


@pytest.mark.parametrize("body", ["time.sleep(3600)", "while True: pass",
                                  "threading.Event().wait()"])
def test_a_module_that_never_finishes_importing(make_project: ProjectFactory, body: str) -> None:
    root = make_project(f"""\
        import threading, time
        import andon
        andon.source("raw")
        {body}  # <- hang
        """)
    toml = root / "andon.toml"
    toml.write_text(toml.read_text().replace("[pools]", 'import_timeout = "1s"\n\n[pools]'))
    began = time.monotonic()
    err = validate(root, timeout=30)
    assert time.monotonic() - began < 25  # abandoned, not waited for
    assert err.startswith(f"Error: {at(root, 'hang')}: importing pipelines.py took longer than "
                          "1s (import_timeout) and was abandoned")
    assert "raise [project] import_timeout in andon.toml" in err


@pytest.mark.parametrize("value", ['"soon"', '"0s"', '"2h"', "-1"])
def test_a_malformed_import_timeout(make_project: ProjectFactory, value: str) -> None:
    root = make_project("import andon\n")
    toml = root / "andon.toml"
    toml.write_text(toml.read_text().replace("[pools]", f"import_timeout = {value}\n\n[pools]"))
    with pytest.raises(ConfigError, match=r"\[project\] import_timeout = ") as info:
        load_project(root)
    assert info.value.where == f"{toml}:6"


EXTREME_KEYS = ["9999-12-31", "0001-01-01", "1969-12-31", "9999-12-31T23", "10000-01-01",
                "2026-01-05" + "5" * 5000]


def test_extreme_keys_through_the_api_are_422_and_record_nothing(
        make_project: ProjectFactory) -> None:
    root = make_project("""\
        import andon
        andon.source("raw")
        andon.pipeline("clean", command="true", inputs=["raw"], outputs=["clean"])
        """)
    with running(root) as line, httpx.Client(base_url=line.url, timeout=30) as client:
        auth = {"Authorization": f"Bearer {make_token(line, 'operator')}"}
        before = line.store.count_events()
        for key in EXTREME_KEYS:
            for path, body in (("/api/v1/notify", {"asset": "raw", "partition": key}),
                               ("/api/v1/runs", {"pipeline": "clean", "partition": key}),
                               ("/api/v1/backfills", {"pipeline": "clean", "from": "2026-01-05",
                                                      "to": key}),
                               ("/api/v1/backfills", {"pipeline": "clean", "from": key,
                                                      "to": "2026-01-05"})):
                res = client.post(path, json=body, headers=auth)
                assert res.status_code == 422, (path, key[:20], res.status_code, res.text[:200])
                assert res.json()["hint"]
        assert line.store.count_events() == before


def test_an_unnamed_lambda_check_is_named_lambda(
        make_project: ProjectFactory) -> None:
    root = make_project("""\
        import andon
        andon.source("raw")
        andon.check("raw")(lambda ctx: True)
        """)
    assert [c.name for c in load_project(root).checks] == ["lambda"]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_a_name_or_a_clear_problem(name: str) -> None:
    problem = name_problem("source", name)
    assert (problem is None) == (bool(NAME_RE.fullmatch(name)) and len(name) <= MAX_NAME)
    if problem:
        assert len(problem) < 600


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab/.{}_-~\\0 partition asset"), max_size=40))
def test_any_template_lands_inside_the_project_or_is_a_clear_problem(template: str) -> None:
    root = "/srv/project"
    problem = location_problem("location", template, "raw", "2026-01-05", root, ("/data/lake",))
    if problem is None:
        full = os.path.normpath(os.path.join(root, template.format(asset="raw",
                                                                   partition="2026-01-05")))
        assert full.startswith((root + "/", "/data/lake/"))
    else:
        assert problem.startswith("location=")
