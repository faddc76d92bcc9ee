"""A small project that trains a model and logs what it measured: the source ``raw``, the
pipeline ``train`` that makes model ``churn`` (its metrics read from the data, so that a test
chooses them), and its ``catalog.toml``."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ProjectFactory

TRAINING = """
    import json
    import andon

    andon.source("raw")

    @andon.pipeline(inputs=["raw"], outputs=["model"], models=["churn"])
    def train(ctx):
        given = json.loads(ctx.inputs["raw"].read_text())
        ctx.log_params(alpha=given.get("alpha", 0.1), solver="lbfgs")
        ctx.log_params({"days": 7})
        for name, value in given.get("metrics", {}).items():
            ctx.log_metric(name, float(value) if isinstance(value, (int, float)) else value)
        ctx.output("model").write_text("weights")
"""


def catalog(deploy: str = "manual") -> str:
    return (f'[[entries]]\nkind = "model"\nname = "churn"\nowner = "ml@example.com"\n'
            f'deploy = "{deploy}"\n')


def training_project(make_project: ProjectFactory, deploy: str = "manual",
                     pipelines: str = TRAINING) -> Path:
    root = make_project(pipelines)
    (root / "catalog.toml").write_text(catalog(deploy))
    return root


def land(root: Path, day: str, **given: object) -> None:
    """Write partition ``day`` of ``raw``: what ``train`` logs."""
    import json

    path = root / "data/raw" / day
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(given))
