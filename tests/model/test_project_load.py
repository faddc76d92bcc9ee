"""Loading a project folder: andon.toml plus definition modules become the validated graph, and
every mistake is reported with the file and line a person has to open."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from andon.model.errors import ConfigError, DefinitionError
from andon.project.load import find_root, load_project, read_config
from tests.conftest import ProjectFactory, utc

GOOD = """\
import andon

andon.source("raw", partitions="daily", expected_arrival="2h")  # <- raw


@andon.pipeline(inputs=["raw"], outputs=["clean"], deadline="6h", retries=2)  # <- clean
def clean(ctx):
    pass


andon.pipeline("report", command="echo {partition}", inputs=["clean"], outputs=["report"])  # <- report
"""


def line(root: Path, marker: str, file: str = "pipelines.py") -> str:
    """``path:line`` of the line holding ``# <- marker``."""
    path = root / file
    for number, text in enumerate(path.read_text().splitlines(), 1):
        if text.rstrip().endswith(f"# <- {marker}"):
            return f"{path}:{number}"
    raise AssertionError(f"no marker {marker!r} in {path}")


def problems(root: Path) -> list[str]:
    with pytest.raises(DefinitionError) as info:
        load_project(root)
    return info.value.message.split("\n  - ")[1:]


def test_a_good_project_loads_and_remembers_where_each_object_was_declared(
        make_project: ProjectFactory) -> None:
    root = make_project(GOOD)
    project = load_project(root)
    g = project.graph
    assert project.name == "test"
    assert g.order == ("clean", "report")
    assert g.assets["raw"].where == line(root, "raw")
    assert g.pipelines["clean"].where == line(root, "clean")
    assert g.pipelines["report"].where == line(root, "report")
    assert g.pipelines["clean"].deadline is not None
    assert g.pools["default"].where == f"{root / 'andon.toml'}:7"


@pytest.mark.parametrize("field,value,expected", [
    ("deadline", "6 hours", "deadline='6 hours' is not a duration; did you mean '6h'?"),
    ("retry_delay", "soon", "retry_delay='soon' is not a duration; write e.g. '90s'"),
    ("timeout", "1 hr", "timeout='1 hr' is not a duration; did you mean '1h'?"),
    ("expected_duration", "5mins", "expected_duration='5mins' is not a duration; did you mean "
                                   "'5m'?"),
    ("timeout", "-5m", "timeout='-5m' must be positive; write e.g. timeout='10m'"),
    ("timeout", "0s", "timeout='0s' must be positive"),
    ("retry_delay", "-1s", "retry_delay='-1s' must be zero or more"),
])
def test_a_malformed_duration_names_file_line_pipeline_and_field(
        make_project: ProjectFactory, field: str, value: str, expected: str) -> None:
    root = make_project(f"""\
        import andon
        andon.source("raw")

        @andon.pipeline(inputs=["raw"], outputs=["clean"], {field}={value!r})  # <- clean
        def clean(ctx):
            pass
        """)
    (text,) = problems(root)
    assert text.startswith(f"{line(root, 'clean')}: pipeline 'clean': {expected}")


def test_a_malformed_expected_arrival_of_a_source(make_project: ProjectFactory) -> None:
    root = make_project("""\
        import andon
        andon.source("raw", expected_arrival="at noon")  # <- raw
        """)
    (text,) = problems(root)
    assert text.startswith(f"{line(root, 'raw')}: source 'raw': expected_arrival='at noon' is "
                           "not a duration")


def test_an_unknown_partition_scheme(make_project: ProjectFactory) -> None:
    root = make_project("""\
        import andon
        andon.source("raw", partitions="weekly")  # <- raw
        """)
    (text,) = problems(root)
    assert text == (f"{line(root, 'raw')}: source 'raw': 'weekly' is not a partition scheme; use "
                    "'daily', 'hourly' or 'unpartitioned'")


def test_inputs_and_outputs_must_be_lists_of_names(make_project: ProjectFactory) -> None:
    root = make_project("""\
        import andon
        andon.source("raw")

        @andon.pipeline(inputs=["raw"], outputs=["clean"])
        def clean(ctx):
            pass

        @andon.pipeline(inputs="raw", outputs=["a"])  # <- a
        def a(ctx):
            pass

        @andon.pipeline(inputs=[clean], outputs="b")  # <- b
        def b(ctx):
            pass
        """)
    items = problems(root)
    assert items == [
        f"{line(root, 'a')}: pipeline 'a': inputs='raw' must be a list; write inputs=['raw']",
        f"{line(root, 'b')}: pipeline 'b': outputs='b' must be a list; write outputs=['b']",
        f"{line(root, 'b')}: pipeline 'b': inputs holds the function 'clean'; name data sets "
        "instead (the outputs of that pipeline), e.g. inputs=['orders']",
    ]


def test_an_unknown_option_stops_at_the_line_with_a_suggestion(make_project: ProjectFactory) -> None:
    root = make_project("""\
        import andon

        @andon.pipeline(input=["raw"], outputs=["a"])  # <- a
        def a(ctx):
            pass
        """)
    with pytest.raises(DefinitionError) as info:
        load_project(root)
    err = info.value
    assert err.where == line(root, "a")
    assert err.message == "pipeline() got unknown option(s) input; did you mean inputs?"
    assert "inputs" in err.hint and "on_upstream_change" in err.hint


def test_a_command_pipeline_needs_a_name(make_project: ProjectFactory) -> None:
    root = make_project("""\
        import andon
        andon.pipeline(command="echo hi", outputs=["x"])  # <- x
        """)
    with pytest.raises(DefinitionError) as info:
        load_project(root)
    assert (info.value.where, info.value.message) == (line(root, "x"),
                                                      "a command pipeline needs a name")


def test_a_bare_decorator_still_declares_the_pipeline(make_project: ProjectFactory) -> None:
    root = make_project("""\
        import andon

        @andon.pipeline  # <- bare
        def bare(ctx):
            pass
        """)
    (text,) = problems(root)
    assert text.startswith(f"{line(root, 'bare')}: pipeline 'bare' has no outputs")


def test_a_module_that_raises_on_import_names_the_line_that_raised(
        make_project: ProjectFactory) -> None:
    root = make_project("""\
        import andon
        andon.source("raw")
        SETTINGS = {}
        THRESHOLD = SETTINGS["threshold"]  # <- boom
        """)
    with pytest.raises(DefinitionError) as info:
        load_project(root)
    err = info.value
    assert err.where == line(root, "boom")
    assert err.message == "importing pipelines.py failed: KeyError: 'threshold'"
    assert err.hint.startswith("fix the error in the definitions module")


def test_an_error_in_a_helper_module_of_the_project_points_into_the_helper(
        make_project: ProjectFactory) -> None:
    root = make_project("""\
        import andon
        import helpers
        """)
    (root / "helpers.py").write_text("import json\n\njson.loads('{not json')  # <- helper\n")
    with pytest.raises(DefinitionError) as info:
        load_project(root)
    assert info.value.where == line(root, "helper", "helpers.py")  # not json's own code
    assert "JSONDecodeError" in info.value.message


def test_a_syntax_error_names_its_own_line(make_project: ProjectFactory) -> None:
    root = make_project("""\
        import andon

        def broken(:  # <- syntax
            pass
        """)
    with pytest.raises(DefinitionError) as info:
        load_project(root)
    assert info.value.where == line(root, "syntax")
    assert "SyntaxError" in info.value.message


def test_a_missing_definitions_module(make_project: ProjectFactory) -> None:
    root = make_project("")
    (root / "pipelines.py").unlink()
    with pytest.raises(ConfigError) as info:
        load_project(root)
    err = info.value
    assert (err.where, err.message) == (str(root / "andon.toml"),
                                        "definitions module pipelines.py does not exist")
    assert "[project] definitions" in err.hint


def test_invalid_toml_names_the_line(make_project: ProjectFactory) -> None:
    root = make_project("")
    (root / "andon.toml").write_text('[project]\nname = "x"\n[pools\ndefault = 2\n')
    with pytest.raises(ConfigError) as info:
        read_config(root)
    err = info.value
    assert err.where == f"{root / 'andon.toml'}:3"
    assert err.message.startswith("andon.toml is not valid TOML: ")
    assert err.hint.startswith("fix the syntax at the line shown")


@pytest.mark.parametrize("pools,expected", [
    ('default = "four"', "pool 'default' has capacity 'four', not a whole number"),
    ("default = 2.5", "pool 'default' has capacity 2.5, not a whole number"),
    ("default = true", "pool 'default' has capacity True, not a whole number"),
])
def test_a_pool_capacity_that_is_not_a_number_names_its_line(make_project: ProjectFactory,
                                                             pools: str, expected: str) -> None:
    root = make_project("import andon\n")
    toml = root / "andon.toml"
    toml.write_text(f'[project]\nname = "x"\n\n[pools]\ngpu = 1\n{pools}\n')
    with pytest.raises(ConfigError) as info:
        load_project(root)
    assert (info.value.where, info.value.message) == (f"{toml}:6", expected)
    assert info.value.hint == ("write 'default = 4' (a whole number of slots), or default = "
                               '{ slots = 4, region = "eu-west-1" } under [pools]')


def test_a_pool_of_zero_slots_names_its_line(make_project: ProjectFactory) -> None:
    root = make_project("import andon\n", pools={"default": 2, "gpu": 0})
    (text,) = problems(root)
    assert text.startswith(f"{root / 'andon.toml'}:8: pool 'gpu' has capacity 0")


def test_a_start_that_is_not_a_date(make_project: ProjectFactory) -> None:
    root = make_project("import andon\n", start="first of May")
    with pytest.raises(ConfigError) as info:
        load_project(root)
    assert info.value.message == "[project] start = 'first of May' is not a date"
    assert info.value.where == str(root / "andon.toml")


def test_no_end_means_partitions_go_on(make_project: ProjectFactory) -> None:
    project = load_project(make_project(GOOD))
    assert project.end is None
    assert project.graph.assets["raw"].partitions.until is None


@pytest.mark.parametrize("written", ['"2026-01-11"', "2026-01-11"])  # a string or a TOML date
def test_end_is_the_last_day_of_partitions_inclusive(make_project: ProjectFactory,
                                                     written: str) -> None:
    project = load_project(make_project(GOOD, start="2026-01-05", end=written))
    assert project.end == date(2026, 1, 11)
    for scheme in (project.graph.assets["raw"].partitions,
                   project.graph.pipelines["clean"].partitions,
                   project.graph.assets["report"].partitions):
        assert scheme.until == utc(2026, 1, 12) and scheme.last_key == "2026-01-11"


def test_end_may_be_the_start_day(make_project: ProjectFactory) -> None:
    project = load_project(make_project(GOOD, start="2026-01-05", end='"2026-01-05"'))
    assert project.graph.assets["raw"].partitions.keys("2026-01-05", "2026-02-01") == [
        "2026-01-05"]


@pytest.mark.parametrize("written,shown", [('"next Friday"', "'next Friday'"),
                                           ('"2026-01-11T12:00"', "'2026-01-11T12:00'"),
                                           ("2026-01-11T12:00:00", "datetime.datetime(2026, 1, 11, "
                                                                   "12, 0)"),
                                           ("20", "20")])
def test_an_end_that_is_not_a_date(make_project: ProjectFactory, written: str, shown: str) -> None:
    root = make_project("import andon\n", end=written)
    with pytest.raises(ConfigError) as info:
        load_project(root)
    err = info.value
    assert err.message == f"[project] end = {shown} is not a date"
    assert err.where == f"{root / 'andon.toml'}:5"
    assert err.hint == ('write the last day of partitions, e.g. end = "2026-01-11" (inclusive), '
                        "or remove end to let partitions go on")


def test_an_end_before_the_start(make_project: ProjectFactory) -> None:
    root = make_project("import andon\n", start="2026-01-05", end='"2026-01-04"')
    with pytest.raises(ConfigError) as info:
        load_project(root)
    err = info.value
    assert err.message == "[project] end = '2026-01-04' is before start = '2026-01-05'"
    assert err.where == f"{root / 'andon.toml'}:5"
    assert err.hint == ("end is the last day of partitions (inclusive): set it on or after "
                        "2026-01-05, or move start earlier")


def test_no_andon_toml_anywhere_above(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        find_root(tmp_path)
    err = info.value
    assert err.message == f"no andon.toml in {tmp_path.resolve()} or any folder above it"
    assert "andon init DIR" in err.hint and "--project DIR" in err.hint
    with pytest.raises(ConfigError, match="andon.toml does not exist"):
        read_config(tmp_path)


def test_options_of_the_wrong_type_are_reported_not_crashed_on(make_project: ProjectFactory) -> None:
    root = make_project("""\
        import andon
        andon.source("raw", partitions=7)  # <- raw

        @andon.pipeline(inputs=5, outputs=["a"], locations="data/a")  # <- a
        def a(ctx):
            pass

        @andon.pipeline(inputs=[], outputs=["b"], locations={"c": "data/c"})  # <- b
        def b(ctx):
            pass
        """)
    assert problems(root) == [
        f"{line(root, 'raw')}: source 'raw': 7 is not a partition scheme; use 'daily', 'hourly' "
        "or 'unpartitioned'",
        f"{line(root, 'a')}: pipeline 'a': inputs=5 must be a list of data set names, e.g. "
        "inputs=['orders']",
        f"{line(root, 'a')}: pipeline 'a': locations='data/a' must map outputs to paths, e.g. "
        "locations={'orders': 'data/orders/{partition}.csv'}",
        f"{line(root, 'b')}: pipeline 'b': locations names 'c', which is not one of its outputs "
        "(b); fix the name",
    ]


def test_a_multi_line_declaration_is_located_at_its_first_line(make_project: ProjectFactory) -> None:
    root = make_project("""\
        import andon
        andon.source(  # <- raw
            "raw",
            expected_arrival="2 hours",
        )
        """)
    (text,) = problems(root)
    assert text.startswith(f"{line(root, 'raw')}: source 'raw': expected_arrival='2 hours' is "
                           "not a duration; did you mean '2h'?")


def test_windows_and_rollups_declared_in_python(make_project: ProjectFactory) -> None:
    root = make_project("""\
        import andon
        andon.source("clicks", partitions="hourly")
        andon.source("orders")

        @andon.pipeline(inputs=[andon.rollup("clicks"), andon.window("orders", 7)],
                        outputs=["daily"])
        def daily(ctx):
            pass

        andon.pipeline("weekly", command="true", outputs=["weekly"],
                       inputs=[andon.mapped("daily", andon.last(7))])
        """)
    g = load_project(root).graph
    assert [i.mapping.describe() for i in g.pipelines["daily"].inputs] == ["roll-up", "last 7"]
    assert len(g.input_keys("daily", "2026-01-10")) == 24 + 7
    assert g.order == ("daily", "weekly")


def test_a_bad_window_points_at_the_users_line_not_into_andon(make_project: ProjectFactory) -> None:
    root = make_project("""\
        import andon
        andon.source("orders")
        WEEK = andon.window("orders", 0)  # <- window
        """)
    with pytest.raises(DefinitionError) as info:
        load_project(root)
    assert info.value.where == line(root, "window")
    assert "last(0): a window needs at least one partition" in info.value.message


def test_a_zero_retry_delay_is_kept(make_project) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from andon.project.load import load_project

    root = make_project("""
        import andon
        andon.source("raw")

        @andon.pipeline(inputs=["raw"], outputs=["out"], retries=2, retry_delay="0s")
        def step(ctx):
            pass
    """)
    assert load_project(root).graph.pipelines["step"].retry_delay == timedelta(0)
