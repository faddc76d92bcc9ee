"""``andon.catalog(...)`` in the definitions, and a pipeline's ``uses=`` and ``models=``: loaded
with catalog.toml, checked the same way, each problem naming the definitions file and line."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from andon.model.errors import ConfigError, DefinitionError
from andon.project.load import load_project
from andon.registry.declared import load_declared
from andon.registry.entries import catalog
from tests.conftest import ProjectFactory

ANDON = str(Path(sys.executable).with_name("andon"))

PIPELINES = """\
    import andon

    andon.source("raw", owner="ingest@example.com")
    andon.catalog(kind="model", name="churn", owner="ml@example.com",
                  description="who is about to leave", tags=("ml",), team="ml",
                  links={"code": "https://git.example.com/churn"}, lifecycle="deprecated",
                  since="2027-01-31")
    andon.catalog(kind="library", name="pricing", owner="core@example.com")

    @andon.pipeline(inputs=["raw"], outputs=["clean"], uses=["orders_api", "pricing"],
                    models=["churn"])
    def train(ctx):
        pass

    @andon.pipeline(inputs=["clean"], outputs=["report"], uses=("pricing",))
    def report(ctx):
        pass
    """
TOML = '[[entries]]\nkind = "service"\nname = "orders_api"\nowner = "backend@example.com"\n'


def test_entries_of_the_definitions_load_with_the_file_and_relate(
        make_project: ProjectFactory) -> None:
    root = make_project(PIPELINES)
    (root / "catalog.toml").write_text(TOML)
    graph = load_project(root).graph
    entries = {e.key: e for e in catalog(graph, load_declared(root, graph))}
    churn = entries["model", "churn"]
    assert (churn.owner, churn.tags, churn.team, churn.lifecycle, churn.since) == \
        ("ml@example.com", ("ml",), "ml", "deprecated", date(2027, 1, 31))
    assert churn.where == f"{root / 'pipelines.py'}:4"
    assert churn.producer == "train" and churn.url() == "/catalog/model/churn"
    assert entries["library", "pricing"].used_by == ("train", "report")
    assert entries["service", "orders_api"].used_by == ("train",)
    train = entries["pipeline", "train"]
    assert (train.uses, train.models) == (("orders_api", "pricing"), ("churn",))
    assert train.url() == "/catalog/pipeline/train"


@pytest.mark.parametrize(("change", "says", "fix"), [
    ('uses=["orders_api", "pricing"]', "", ""),
    ('uses=["orders_apy", "pricing"]', "uses= names 'orders_apy', which is no service or library "
     "of the catalog; did you mean 'orders_api'?", "known: orders_api, pricing"),
    ('uses=["churn"]', "uses= names 'churn', which is no service or library", "known: "
     "orders_api, pricing; declare it in catalog.toml or with andon.catalog(kind=\"library\""),
    ('models=["pricing"], uses=[]', "models= names 'pricing', which is no model of the "
     "catalog", "known: churn"),
])
def test_uses_and_models_name_entries_of_the_catalog(make_project: ProjectFactory, change: str,
                                                     says: str, fix: str) -> None:
    declared = 'uses=["orders_api", "pricing"],\n                    models=["churn"]'
    root = make_project(PIPELINES.replace(declared, change))
    (root / "catalog.toml").write_text(TOML)
    graph = load_project(root).graph
    if not says:
        assert len(load_declared(root, graph)) == 3
        return
    with pytest.raises(ConfigError) as err:
        load_declared(root, graph)
    assert err.value.where == f"{root / 'pipelines.py'}:10"
    assert says in err.value.message and fix in err.value.hint


def test_a_model_has_one_producer(make_project: ProjectFactory) -> None:
    root = make_project(PIPELINES.replace('uses=("pricing",)', 'models=("churn",)'))
    (root / "catalog.toml").write_text(TOML)
    with pytest.raises(ConfigError) as err:
        load_declared(root, load_project(root).graph)
    assert "pipeline 'report' declares it makes model 'churn', which pipeline 'train' makes" \
        in err.value.message
    assert err.value.where == f"{root / 'pipelines.py'}:15"


@pytest.mark.parametrize(("call", "says"), [
    ('andon.catalog(kind="modle", name="x", owner="o")', "kind 'modle'"),
    ('andon.catalog(kind="model", name="x")', "entry 'x' (model) has no owner"),
    ('andon.catalog(kind="model", name="a b", owner="o")', "is not an identifier"),
    ('andon.catalog(kind="model", name="x", owner="o", lifecycle="deprecated")',
     "deprecated entry needs the date"),
    ('andon.catalog(kind="model", name="x", owner="o", lifecycle="beta", since="2027-02-30")',
     "lifecycle date '2027-02-30' is not a date"),
    ('andon.catalog(kind="model", name="x", owner="o", tags="ml")', "is not a list of words"),
    ('andon.catalog(kind="library", name="pricing", owner="o")', "library 'pricing' is "
     "declared twice (also at"),
    ('andon.catalog(kind="dataset", name="raw", owner="o")', "dataset 'raw' is declared twice"),
])
def test_a_bad_call_is_refused_naming_its_line(make_project: ProjectFactory, call: str,
                                               says: str) -> None:
    root = make_project(PIPELINES + call + "\n")
    line = len(Path(root / "pipelines.py").read_text().splitlines())
    with pytest.raises(ConfigError) as err:
        load_declared(root, load_project(root).graph)
    assert err.value.where == f"{root / 'pipelines.py'}:{line}"
    assert says in err.value.message


@pytest.mark.parametrize(("option", "says"), [
    ('uses="pricing"', "uses='pricing' is not a list of names"),
    ('models=["a/b"]', "models= holds a catalog entry name 'a/b' is not an identifier"),
    ("models=[3]", "is not a string"),
])
def test_uses_and_models_are_lists_of_names(make_project: ProjectFactory, option: str,
                                            says: str) -> None:
    root = make_project(PIPELINES.replace('uses=("pricing",)', option))
    with pytest.raises(DefinitionError) as err:
        load_project(root)
    assert says in err.value.message
    assert err.value.where == f"{root / 'pipelines.py'}:15"


def test_validate_refuses_an_unknown_use_with_exit_2(make_project: ProjectFactory) -> None:
    root = make_project(PIPELINES)
    proc = subprocess.run([ANDON, "--project", str(root), "validate"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2
    assert f"Error: {root / 'pipelines.py'}:10: pipeline 'train': uses= names 'orders_api'" \
        in proc.stderr
    assert "hint: known: pricing" in proc.stderr
    (root / "catalog.toml").write_text(TOML)
    proc = subprocess.run([ANDON, "--project", str(root), "validate"], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "3 catalog entries" in proc.stdout


OUTPUT_ACCESS = """\
    import andon

    andon.source("raw", owner="ingest@example.com")

    @andon.pipeline(inputs=["raw"], outputs=["clean", "audit"], owner="data@example.com",
                    access={"clean": {"note": "say what for", "form": {
                        "type": "object", "required": ["purpose"],
                        "properties": {"purpose": {"type": "string"}}}}})
    def clean(ctx):
        pass
    """


def test_a_pipeline_declares_how_to_get_access_to_its_outputs(
        make_project: ProjectFactory) -> None:
    graph = load_project(make_project(OUTPUT_ACCESS)).graph
    clean = graph.assets["clean"].access
    assert clean is not None and clean.note == "say what for" and clean.form is not None
    assert graph.assets["audit"].access is None
    entry = {e.key: e for e in catalog(graph, [])}[("dataset", "clean")]
    assert entry.access == clean  # its catalog entry takes requests through the form


@pytest.mark.parametrize(("access", "says"), [
    ('{"report": "https://x.example.com"}', "must map its outputs"),
    ('"https://x.example.com"', "must map its outputs"),
    ('{"clean": {"form": {"type": "object", "oneOf": []}}}', "output 'clean'"),
])
def test_a_pipeline_s_access_names_its_outputs_and_is_checked(
        make_project: ProjectFactory, access: str, says: str) -> None:
    root = make_project(OUTPUT_ACCESS.replace(
        OUTPUT_ACCESS[OUTPUT_ACCESS.index('access={"clean"'):OUTPUT_ACCESS.index("})\n") + 2],
        f"access={access})"))
    with pytest.raises(DefinitionError) as err:
        load_project(root)
    assert says in str(err.value) and "pipelines.py" in str(err.value)
