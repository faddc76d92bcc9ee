"""Bad input gets one clear error: the real `andon` command, run as a user runs it.

Each mistake exits with code 2, prints nothing on stdout, and prints on stderr a first line
``Error: ...`` naming the file (and line) and the object, then a ``hint:`` line with the fix.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ProjectFactory

ANDON = str(Path(sys.executable).with_name("andon"))
RAW_CLEAN = """\
    import andon
    andon.source("raw")

    @andon.pipeline(inputs=["raw"], outputs=["clean"])
    def clean(ctx):
        pass
    """


def andon(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([ANDON, *args], capture_output=True, text=True, timeout=60, cwd=cwd)


def bad(root: Path, *args: str) -> str:
    """Run ``andon --project ROOT ARGS`` expecting a usage error; return stderr."""
    proc = andon("--project", str(root), *args)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stdout == ""  # errors never go to stdout
    assert proc.stderr.startswith("Error: ")
    assert "\n  hint: " in proc.stderr
    assert "Traceback" not in proc.stderr
    return proc.stderr


def at(root: Path, marker: str, file: str = "pipelines.py") -> str:
    """``path:line`` of the line holding ``# <- marker``."""
    path = root / file
    for number, text in enumerate(path.read_text().splitlines(), 1):
        if text.rstrip().endswith(f"# <- {marker}"):
            return f"{path}:{number}"
    raise AssertionError(f"no marker {marker!r} in {path}")


def test_a_good_project_validates_with_data_on_stdout_only(make_project: ProjectFactory) -> None:
    root = make_project("""\
        import andon
        andon.source("raw")

        @andon.pipeline(inputs=["raw"], outputs=["clean"], deadline="6h")
        def clean(ctx):
            pass
        """)
    proc = andon("--project", str(root), "validate")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ok: 1 pipelines, 1 sources, 1 pools")
    assert proc.stderr == ""


def test_a_cycle(make_project: ProjectFactory) -> None:
    root = make_project("""\
        import andon
        andon.source("raw")

        @andon.pipeline(inputs=["raw", "scores"], outputs=["features"])  # <- features
        def features(ctx):
            pass

        @andon.pipeline(inputs=["features"], outputs=["scores"])  # <- score
        def score(ctx):
            pass
        """)
    err = bad(root, "validate")
    assert "1 problem(s) in the definitions" in err
    assert (f"{at(root, 'features')}: cycle between pipelines features -> score -> features "
            "(score reads 'features' from features, features reads 'scores' from score); a "
            "pipeline cannot read (directly or not) what it produces, remove one of these "
            "inputs") in err


def test_an_unknown_input(make_project: ProjectFactory) -> None:
    root = make_project("""\
        import andon
        andon.source("raw_orders")

        @andon.pipeline(inputs=["raw_order"], outputs=["orders"])  # <- clean
        def clean(ctx):
            pass
        """)
    err = bad(root, "validate")
    assert (f"{at(root, 'clean')}: pipeline 'clean' reads unknown input 'raw_order'; did you mean "
            "'raw_orders'? declare it with andon.source('raw_order', ...)") in err
    assert "(known: orders, raw_orders)" in err


def test_a_duplicate_output(make_project: ProjectFactory) -> None:
    root = make_project("""\
        import andon
        andon.source("raw")

        @andon.pipeline(inputs=["raw"], outputs=["orders"])
        def clean(ctx):
            pass

        @andon.pipeline(inputs=["raw"], outputs=["orders"])  # <- again
        def clean_again(ctx):
            pass
        """)
    err = bad(root, "validate")
    assert (f"{at(root, 'again')}: output 'orders' of pipeline 'clean_again' is also produced by "
            "pipeline 'clean'; each data set has one producer, rename one output") in err


@pytest.mark.parametrize("option,expected", [
    ('deadline="6 hours"', "deadline='6 hours' is not a duration; did you mean '6h'?"),
    ('retry_delay="ten seconds"', "retry_delay='ten seconds' is not a duration; write e.g. "),
    ('timeout="90"', "timeout='90' is not a duration; write e.g. '90s'"),
    ('expected_duration="20 minutes"', "expected_duration='20 minutes' is not a duration; did "
                                       "you mean '20m'?"),
])
def test_a_malformed_duration(make_project: ProjectFactory, option: str, expected: str) -> None:
    root = make_project(f"""\
        import andon
        andon.source("raw")

        @andon.pipeline(inputs=["raw"], outputs=["sales"], {option})  # <- sales
        def daily_sales(ctx):
            pass
        """)
    err = bad(root, "validate")
    assert f"{at(root, 'sales')}: pipeline 'daily_sales': {expected}" in err


def test_a_malformed_partition_key_shows_the_expected_form(make_project: ProjectFactory) -> None:
    root = make_project("""\
        import andon
        andon.source("src")
        """)
    err = bad(root, "notify", "src", "2026-13-45")
    first, hint = err.splitlines()[:2]
    assert first == ("Error: asset 'src': '2026-13-45' is not a daily partition key; write it like "
                     "'2026-01-05'")
    assert hint == "  hint: partition keys of 'src' look like '2026-01-05'"


def test_a_partition_key_before_the_project_start(make_project: ProjectFactory) -> None:
    root = make_project("""\
        import andon
        andon.source("src", partitions="hourly")
        """)
    err = bad(root, "notify", "src", "2025-12-31T23")
    assert "asset 'src': '2025-12-31T23' is before the first partition '2026-01-01T00'" in err


@pytest.mark.parametrize("end,first,hint", [
    ('"the 11th"', "[project] end = 'the 11th' is not a date",
     'write the last day of partitions, e.g. end = "2026-01-11" (inclusive), or remove end to '
     "let partitions go on"),
    ('"2025-12-31"', "[project] end = '2025-12-31' is before start = '2026-01-01'",
     "end is the last day of partitions (inclusive): set it on or after 2026-01-01, or move "
     "start earlier"),
])
def test_a_bad_project_end(make_project: ProjectFactory, end: str, first: str, hint: str) -> None:
    root = make_project("import andon\n", end=end)
    err = bad(root, "validate")
    assert err.splitlines()[:2] == [f"Error: {root / 'andon.toml'}:5: {first}", f"  hint: {hint}"]


@pytest.mark.parametrize("args,first,hint", [
    (("notify", "raw", "2026-01-12"),
     "asset 'raw': '2026-01-12' is after the last partition '2026-01-11' (the project ends on "
     "2026-01-11)",
     "raise [project] end in andon.toml to 2026-01-12 or later to take partitions after it"),
    (("run", "clean", "--partition", "2026-02-01"),
     "pipeline 'clean': '2026-02-01' is after the last partition '2026-01-11' (the project ends "
     "on 2026-01-11)",
     "raise [project] end in andon.toml to 2026-02-01 or later to take partitions after it"),
    (("backfill", "clean", "--from", "2026-01-05", "--to", "2026-01-15"),
     "backfill range 2026-01-05..2026-01-15 goes past the last partition 2026-01-11 of pipeline "
     "'clean' (the project ends on 2026-01-11)",
     "end the range at 2026-01-11 (--to 2026-01-11), or raise [project] end in andon.toml"),
])
def test_a_request_after_the_project_end(make_project: ProjectFactory, args: tuple[str, ...],
                                         first: str, hint: str) -> None:
    root = make_project(RAW_CLEAN, end='"2026-01-11"')
    err = bad(root, *args)
    assert err.splitlines()[:2] == [f"Error: {first}", f"  hint: {hint}"]
    # the last day itself is taken (end is inclusive)
    ok = andon("--project", str(root), "backfill", "clean", "--from", "2026-01-10", "--to",
               "2026-01-11")
    assert ok.returncode == 0, ok.stderr


@pytest.mark.parametrize("args,first,hint", [
    (("run", "clean", "--partition", "2026-02-30"),
     "pipeline 'clean': '2026-02-30' is not a daily partition key; write it like '2026-01-05'",
     "partition keys of 'clean' look like '2026-01-05'"),
    (("backfill", "clean", "--from", "2026-01-05", "--to", "2026-01-01"),
     "backfill range 2026-01-05..2026-01-01 is empty", "give --from before --to"),
    (("run", "clena", "--partition", "2026-01-05"), "no pipeline named 'clena'",
     "known pipelines: clean"),
    (("notify", "raw_order", "2026-01-05"), "no data set named 'raw_order'", "sources: raw"),
    (("notify", "clean", "2026-01-05"), "'clean' is produced by pipeline 'clean', not announced "
     "from outside", "re-make it with `andon run clean --partition 2026-01-05`"),
])
def test_a_request_naming_something_wrong(make_project: ProjectFactory, args: tuple[str, ...],
                                          first: str, hint: str) -> None:
    root = make_project(RAW_CLEAN)
    err = bad(root, *args)
    assert err.splitlines()[:2] == [f"Error: {first}", f"  hint: {hint}"]


def test_a_missing_andon_toml(tmp_path: Path) -> None:
    err = bad(tmp_path, "validate")
    assert err.startswith(f"Error: no andon.toml in {tmp_path.resolve()} or any folder above it")
    assert "andon init DIR" in err


def test_no_andon_toml_from_the_current_folder_either(tmp_path: Path) -> None:
    proc = andon("validate", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("Error: no andon.toml in ")


def test_invalid_toml(make_project: ProjectFactory) -> None:
    root = make_project("import andon\n")
    (root / "andon.toml").write_text('[project]\nname = "shop"\n\n[pools]\ndefault = \n')
    err = bad(root, "validate")
    assert err.startswith(f"Error: {root / 'andon.toml'}:5: andon.toml is not valid TOML: ")
    assert "hint: fix the syntax at the line shown" in err


def test_a_definitions_module_that_raises_on_import(make_project: ProjectFactory) -> None:
    root = make_project("""\
        import andon
        import os

        BUCKET = os.environ["ANDON_TEST_BUCKET_THAT_IS_NOT_SET"]  # <- raises
        andon.source("raw")
        """)
    err = bad(root, "validate")
    assert err.startswith(f"Error: {at(root, 'raises')}: importing pipelines.py failed: KeyError: "
                          "'ANDON_TEST_BUCKET_THAT_IS_NOT_SET'")
    assert "hint: fix the error in the definitions module" in err


def test_a_syntax_error_in_the_definitions(make_project: ProjectFactory) -> None:
    root = make_project("""\
        import andon

        @andon.pipeline(inputs=["raw"] outputs=["x"])  # <- syntax
        def x(ctx):
            pass
        """)
    err = bad(root, "validate")
    assert err.startswith(f"Error: {at(root, 'syntax')}: importing pipelines.py failed: "
                          "SyntaxError")


def test_an_unknown_pool_and_too_many_slots(make_project: ProjectFactory) -> None:
    root = make_project("""\
        import andon
        andon.source("raw")

        @andon.pipeline(inputs=["raw"], outputs=["model"], pool="gpu")  # <- train
        def train(ctx):
            pass

        @andon.pipeline(inputs=["raw"], outputs=["big"], slots=8)  # <- big
        def big(ctx):
            pass
        """, pools={"default": 4})
    err = bad(root, "validate")
    assert "2 problem(s)" in err
    assert (f"{at(root, 'train')}: pipeline 'train' uses pool 'gpu', which "
            f"{root / 'andon.toml'} does not declare; add 'gpu = N' under [pools]") in err
    assert (f"{at(root, 'big')}: pipeline 'big' needs 8 slots but pool 'default' has 4; lower "
            "slots or raise the pool") in err


def test_debug_shows_the_traceback(make_project: ProjectFactory) -> None:
    root = make_project("import andon\nraise RuntimeError('broken on purpose')\n")
    proc = andon("--project", str(root), "--debug", "validate")
    assert proc.returncode == 2
    assert "Traceback" in proc.stderr and "broken on purpose" in proc.stderr
