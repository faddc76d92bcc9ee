"""A small project whose features are profiled in the runs that write them: the source ``raw``
(a JSON file per day giving the mean of ``spend``), the pipeline ``make_features`` writing
``features`` (CSV: spend, orders, plan) and ``recent`` (the same, profiled against a window),
and ``train`` making model ``churn`` from ``features``."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import ProjectFactory

PIPELINES = """
    import csv
    import json
    import random
    import andon

    andon.source("raw")

    @andon.pipeline(inputs=["raw"], outputs=["features", "recent"],
                    locations={"features": "data/features/{partition}.csv",
                               "recent": "data/recent/{partition}.csv"})
    def make_features(ctx):
        given = json.loads(ctx.inputs["raw"].read_text())
        rng = random.Random(ctx.partition)
        for name in ("features", "recent"):
            with open(ctx.output(name), "w", newline="") as fh:
                out = csv.writer(fh)
                out.writerow(["spend", "orders", "plan"])
                for _ in range(given.get("rows", 2000)):
                    out.writerow([round(rng.gauss(given.get("mean", 0.0), 1.0), 4),
                                  rng.randint(0, 9), rng.choice(["basic", "pro"])])

    @andon.pipeline(inputs=["features"], outputs=["model"], models=["churn"])
    def train(ctx):
        ctx.output("model").write_text("weights")

    andon.profile("features", columns=["spend", "orders", "plan"])
    andon.profile("recent", columns=["spend"], reference="window:2")
"""

CATALOG = '[[entries]]\nkind = "model"\nname = "churn"\nowner = "ml@example.com"\n'


def drift_project(make_project: ProjectFactory, pipelines: str = PIPELINES) -> Path:
    root = make_project(pipelines)
    (root / "catalog.toml").write_text(CATALOG)
    return root


def land(root: Path, day: str, **given: object) -> None:
    path = root / "data/raw" / day
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(given))
