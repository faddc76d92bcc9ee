"""Hostile ``andon.serving`` inputs: a model no pipeline makes, made by two, a producer with
several outputs and none named, an output that is not the producer's, a pipeline reading the
serving version of its own model, and names that are not identifiers. Each is refused by the
real `andon validate` (exit 2) naming the file and line, the pipeline and the fix."""

from __future__ import annotations

import pytest

from tests.conftest import ProjectFactory
from tests.hostile.test_definitions import at, validate

HEAD = """
    import andon

    andon.source("raw")
"""


def _project(make_project: ProjectFactory, body: str):  # type: ignore[no-untyped-def]
    return make_project(HEAD + body)


@pytest.mark.parametrize(("body", "says", "fix"), [
    ("""
    @andon.pipeline(inputs=["raw"], outputs=["model"])
    def train(ctx): pass

    @andon.pipeline(inputs=[andon.serving("churn")], outputs=["scores"])  # <- HERE
    def score(ctx): pass
    """, "no pipeline makes model 'churn'", "add models=['churn']"),
    ("""
    @andon.pipeline(inputs=["raw"], outputs=["model"], models=["churn"])
    def train(ctx): pass

    @andon.pipeline(inputs=[andon.serving("chrun")], outputs=["scores"])  # <- HERE
    def score(ctx): pass
    """, "no pipeline makes model 'chrun'", "did you mean 'churn'"),
    ("""
    @andon.pipeline(inputs=["raw"], outputs=["model", "metrics"], models=["churn"])
    def train(ctx): pass

    @andon.pipeline(inputs=[andon.serving("churn")], outputs=["scores"])  # <- HERE
    def score(ctx): pass
    """, "has 2 outputs (model, metrics)", "output='model'"),
    ("""
    @andon.pipeline(inputs=["raw"], outputs=["model"], models=["churn"])
    def train(ctx): pass

    @andon.pipeline(inputs=[andon.serving("churn", output="weights")], outputs=["scores"])  # <- HERE
    def score(ctx): pass
    """, "output='weights', which is not an output of its producer 'train'", "name one of"),
    ("""
    @andon.pipeline(inputs=["raw", andon.serving("churn")], outputs=["model"],  # <- HERE
                    models=["churn"])
    def train(ctx): pass
    """, "a model it makes itself", "a cycle"),
    ("""
    @andon.pipeline(inputs=["raw"], outputs=["model"], models=["churn"])
    def train(ctx): pass

    @andon.pipeline(inputs=["raw"], outputs=["other"], models=["churn"])
    def train2(ctx): pass

    @andon.pipeline(inputs=[andon.serving("churn")], outputs=["scores"])  # <- HERE
    def score(ctx): pass
    """, "'train', 'train2' all make model 'churn'", "keep models="),
    ("""
    @andon.pipeline(inputs=["raw"], outputs=["model"], models=["churn"])
    def train(ctx): pass

    @andon.pipeline(inputs=[andon.serving("../etc/passwd")], outputs=["scores"])  # <- HERE
    def score(ctx): pass
    """, "reads andon.serving('../etc/passwd')", "name a model"),
    ("""
    @andon.pipeline(inputs=["raw"], outputs=["model"], models=["churn"])
    def train(ctx): pass

    @andon.pipeline(inputs=[andon.serving(42)], outputs=["scores"])  # <- HERE
    def score(ctx): pass
    """, "reads andon.serving('42')", "name a model"),
])
def test_a_bad_serving_input_is_refused_at_load(make_project: ProjectFactory, body: str,
                                                 says: str, fix: str) -> None:
    root = _project(make_project, body)
    err = validate(root)
    assert says in err and fix in err, err
    assert "pipeline 'score'" in err or "pipeline 'train'" in err
    assert at(root, "HERE") in err
