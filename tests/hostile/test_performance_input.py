"""Hostile ``andon.performance`` declarations: unknown metrics, names that are not identifiers,
endless metric lists, thresholds that are no numbers or name no declared metric. Each fails
the load naming the file and line, the object and the fix (exit 2 from a real `andon
validate`, the loader's DefinitionError in-process)."""

from __future__ import annotations

from pathlib import Path

import pytest

from andon.model.errors import DefinitionError
from andon.project.load import load_project
from tests.conftest import ProjectFactory
from tests.hostile.test_definitions import validate

HEAD = """
    import andon
    andon.source("scores")
    andon.source("bought")
"""


@pytest.mark.parametrize(("call", "problem", "fix"), [
    ('metric="gini"', "unknown metric 'gini'", "known metrics: auc, accuracy, precision"),
    ('metric=["auc"] * 10', "is not a metric or a list of 1 to 9 metrics", "metric=['auc'"),
    ("metric=[]", "is not a metric or a list of 1 to 9 metrics", "known:"),
    ("metric=3", "is not a metric or a list", "known:"),
    ('metric=["auc", None]', "unknown metric 'None'", "known metrics"),
    ('key="../etc"', "key name '../etc' is not an identifier", "pass key="),
    ('prediction="p" * 300', "longer than 128 characters", "pass prediction="),
    ('name="a/b"', "pipeline name 'a/b' is not an identifier", "pass name="),
    ('threshold={"rmse": 1}', "threshold names 'rmse', which is not among the metrics",
     "give thresholds for declared metrics"),
    ('threshold={"auc": float("nan")}', "threshold['auc'] = nan is not a finite number",
     "threshold={'auc': 0.7}"),
    ('threshold={"auc": "high"}', "is not a finite number", "threshold="),
    ('threshold=[0.7]', "threshold=[0.7] is not a mapping", "threshold="),
    ('key="score"', "the key column 'score' is also the prediction column", "key="),
])
def test_a_bad_declaration_fails_the_load(make_project: ProjectFactory, call: str, problem: str,
                                          fix: str) -> None:
    root = make_project(HEAD + f"""
    andon.performance("churn", predictions="scores", labels="bought", {call})
""")
    with pytest.raises(DefinitionError) as caught:
        load_project(root)
    assert problem in str(caught.value) and "andon.performance('churn')" in str(caught.value)
    assert fix in (caught.value.hint or "")
    assert f"{root / 'pipelines.py'}:" in (caught.value.where or "")


def test_the_same_data_set_as_predictions_and_labels(make_project: ProjectFactory) -> None:
    root = make_project(HEAD + """
    andon.performance("churn", predictions="scores", labels="scores")
""")
    assert "predictions and labels are both 'scores'" in validate(root)


def test_two_declarations_of_one_name(make_project: ProjectFactory) -> None:
    root: Path = make_project(HEAD + """
    andon.performance("churn", predictions="scores", labels="bought")
    andon.source("other")
    andon.performance("churn", predictions="scores", labels="bought")
""")
    err = validate(root)
    assert "derives the pipeline 'churn_performance', but pipeline 'churn_performance'" in err


def test_a_name_a_source_has(make_project: ProjectFactory) -> None:
    root: Path = make_project(HEAD + """
    andon.performance("churn", predictions="scores", labels="bought", name="bought")
""")
    assert "already has that name" in validate(root) and "source 'bought'" in validate(root)


def test_unknown_inputs_are_the_graph_s_usual_error(make_project: ProjectFactory) -> None:
    root: Path = make_project(HEAD + """
    andon.performance("churn", predictions="scorez", labels="bought")
""")
    assert "scorez" in validate(root)
