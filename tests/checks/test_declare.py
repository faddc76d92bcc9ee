"""Declaring checks and subscribers: collected like pipelines, mistakes named by file and line."""

from __future__ import annotations

import sys

import pytest

from andon.model.errors import ConfigError, DefinitionError
from andon.notify.config import notify_config
from andon.project.load import load_project
from andon.project.settings import resolve
from tests.conftest import ProjectFactory
from tests.model.test_project_load import line, problems

GOOD = """\
import andon

andon.source("raw", subscribers=["ops@example.com"])


@andon.pipeline(inputs=["raw"], outputs=["clean"], owner="ana@example.com",
                subscribers=["alerts"])
def clean(ctx):
    pass


andon.check("raw")(andon.checks.row_count(min=1))  # <- builtin


@andon.check("clean", blocking=False, name="looks_ok")  # <- custom
def clean_ok(ctx):
    return andon.CheckResult(True, {"x": 1}, "fine")
"""


def test_checks_and_subscribers_are_collected(make_project: ProjectFactory) -> None:
    root = make_project(GOOD)
    project = load_project(root)
    assert [(c.name, c.asset, c.blocking) for c in project.checks] == [
        ("row_count", "raw", True), ("looks_ok", "clean", False)]
    assert project.checks[0].where == line(root, "builtin")
    assert project.checks[1].where == line(root, "custom")
    assert project.graph.assets["raw"].subscribers == ("ops@example.com",)
    assert project.graph.assets["clean"].subscribers == ("alerts",)
    assert project.graph.pipelines["clean"].subscribers == ("alerts",)


def test_a_check_on_an_unknown_asset_names_the_line(make_project: ProjectFactory) -> None:
    root = make_project("""\
        import andon

        andon.source("orders")
        andon.check("order")(andon.checks.row_count(min=1))  # <- typo


        @andon.check("nothing_like_it")  # <- unknown
        def f(ctx):
            return True


        @andon.check("orders")  # <- first
        def same(ctx):
            return True


        @andon.check("orders", name="same")  # <- twice
        def other(ctx):
            return True
        """)
    found = problems(root)
    assert f"{line(root, 'typo')}: check 'row_count' is on 'order', which is not a declared " \
           "data set or model; did you mean 'orders'?" in found
    assert any(p.startswith(line(root, "unknown")) and "name a source, a pipeline output or a model" in p
               for p in found)
    assert any(p.startswith(line(root, "twice")) and f"also at {line(root, 'first')}" in p
               for p in found)


def test_bad_subscribers_are_reported(make_project: ProjectFactory) -> None:
    root = make_project("""\
        import andon

        andon.source("orders", subscribers="ops@example.com")  # <- string
        andon.source("other", subscribers=["nobody-knows-me"])  # <- unknown
        """, extra='[notify]\nsubscribers = ["team@example.com"]\n'
                   '[notify.webhooks]\nalerts = "https://hooks.example.com/T/B/secret"\n')
    found = problems(root)
    assert len(found) == 1 and found[0].startswith(line(root, "string"))
    assert "must be a list" in found[0]
    (root / "pipelines.py").write_text((root / "pipelines.py").read_text().replace(
        'subscribers="ops@example.com"', 'subscribers=["alerts"]'))
    project = load_project(root)
    settings = resolve(root, {}, {}, project.settings_table)
    with pytest.raises(ConfigError, match="'nobody-knows-me' is neither an e-mail address") as err:
        notify_config(project.config, settings, project.graph)
    assert err.value.where == line(root, "unknown")
    config = notify_config(project.config, settings)  # without the graph: the table alone
    assert config.subscribers == ("team@example.com",) and config.smtp is None
    assert "secret" not in repr(config)


def test_smtp_settings_may_sit_in_the_notify_table(make_project: ProjectFactory) -> None:
    root = make_project('import andon\nandon.source("raw")\n',
                        extra='[notify]\nsmtp_host = "mail.example.com"\nsmtp_port = 2525\n'
                              'smtp_password = "hunter2"\n[settings]\nsmtp_port = 587\n')
    project = load_project(root)
    settings = resolve(root, {}, {"ANDON_SMTP_PASSWORD": "from-env"}, project.settings_table)
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_password) == (
        "mail.example.com", 587, "from-env")
    assert settings.public()["smtp_password"] == "***"
    assert "from-env" not in repr(settings)


def test_a_wrapped_non_function_is_refused(make_project: ProjectFactory) -> None:
    root = make_project("""\
        import andon

        andon.source("raw")
        andon.check("raw")(42)  # <- bad
        """)
    with pytest.raises(DefinitionError, match="not a function") as err:
        load_project(root)
    assert err.value.where == line(root, "bad")


def test_a_pandera_check_without_pandera_names_the_line(make_project: ProjectFactory,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    # a None entry makes `import pandera` fail exactly as when it is not installed
    monkeypatch.setitem(sys.modules, "pandera", None)
    root = make_project("""\
        import andon

        andon.source("raw")
        andon.check("raw")(andon.checks.pandera_schema(object()))  # <- schema
        """)
    with pytest.raises(DefinitionError, match="needs pandera and pandas") as err:
        load_project(root)
    assert err.value.where == line(root, "schema")
    assert "pip install 'andon[quality]'" in err.value.hint
