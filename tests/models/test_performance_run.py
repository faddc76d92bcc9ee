"""The run of an ``andon.performance`` pipeline on real files: the join, the metrics logged
(per model version with a ``model_version`` column), and each bad partition failing with a
sentence naming the model, the partition and the column."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from andon.checks.realised import Spec, measure
from andon.checks.scoring import PerformanceError
from andon.executors.context import Context, Outputs

SPEC = Spec("churn", "scores", "bought", ("auc", "accuracy"), "id", "p", "y", {"auc": 0.7},
            "churn_performance")


def _run(tmp_path: Path, scores: str, labels: str, spec: Spec = SPEC,
         suffix: str = ".csv") -> tuple[dict[str, float], Context]:
    files = {}
    for name, text in (("scores", scores), ("bought", labels)):
        files[name] = tmp_path / f"{name}{suffix}"
        files[name].write_text(text)
    ctx = Context("r1", "2026-01-02", 1, tmp_path, files,
                  Outputs({spec.name: tmp_path / "out" / "perf.json"}), logging.getLogger("test"))
    return measure(spec, ctx), ctx


def test_joins_by_key_and_logs_the_metrics(tmp_path: Path) -> None:
    scores = "id,p\na,0.9\nb,0.2\nc,0.6\nd,0.4\nz,0.5\n"  # z has no label: left out
    out, ctx = _run(tmp_path, scores, "y,id\n1,a\n0,b\n0,c\n1,d\n0,q\n")
    assert out == {"rows": 4.0, "auc": 0.75, "accuracy": 0.5}
    assert ctx.metrics == out and ctx.rows == {"churn_performance": 3}
    written = json.loads((tmp_path / "out/perf.json").read_text())
    assert written["metrics"]["auc"] == 0.75 and written["threshold"] == {"auc": 0.7}


def test_per_version_metrics_from_a_model_version_column(tmp_path: Path) -> None:
    scores = ("id,p,model_version\na,0.9,7\nb,0.2,7\nc,0.6,7\n"
              "a,0.8,v8\nb,0.1,v8\n")  # version 7 scored 3 rows, candidate 8 two
    out, ctx = _run(tmp_path, scores, "id,y\na,1\nb,0\nc,0\n")
    assert out["auc@v7"] == 1.0 and out["auc@v8"] == 1.0
    assert out["accuracy@v7"] == 2 / 3 and out["accuracy@v8"] == 1.0
    assert out["accuracy"] == out["accuracy@v7"]  # the plain metric: the version with most rows
    assert out["rows"] == 5 and out["rows@v7"] == 3 and out["rows@v8"] == 2
    assert "accuracy@v8" in ctx.metrics  # METRIC@vN is a name a run may log


def test_class_labels_for_accuracy_alone(tmp_path: Path) -> None:
    spec = Spec("kind", "scores", "bought", ("accuracy",), "id", "p", "y", {}, "kind_perf")
    out, _ = _run(tmp_path, "id,p\na,cat\nb,dog\n", "id,y\na,cat\nb,cat\n", spec)
    assert out == {"rows": 2.0, "accuracy": 0.5}


@pytest.mark.parametrize(("scores", "labels", "message"), [
    ("id,p\na,0.9\n", "id,y\nx,1\n",
     "model 'churn', partition 2026-01-02: the predictions (1 rows) and the labels (1 rows) "
     "share no value of the key column 'id'"),
    ("id,score\na,0.9\n", "id,y\na,1\n",
     "scores (scores.csv) has no column 'p'; its columns: id, score"),
    ("id,p\na,0.9\n", "customer,y\na,1\n", "bought (bought.csv) has no column 'id'; its columns: "
                                           "customer, y"),
    ("id,p\na,0.9\nb,high\n", "id,y\na,1\nb,0\n", "scores column 'p', row 3: 'high' is not a number"),
    ("id,p\na,0.9\nb,nan\n", "id,y\na,1\nb,0\n", "scores column 'p', row 3: 'nan' is not a number"),
    ("id,p\na,0.9\nb,0.1\n", "id,y\na,1\nb,2\n", "bought column 'y', row 3: '2' is not a class 0 or 1"),
    ("id,p\n", "id,y\na,1\n", "scores (scores.csv) is empty (no rows)"),
    ("", "id,y\na,1\n", "scores (scores.csv) has no column 'id'; its columns: none"),
    ("id,p\na,0.9\n", "id,y\na,1\na,0\n", "labels hold key id='a' twice (rows 2 and 3)"),
    ("id,p\na,0.9\nb,0.1\n", "id,y\na,1\nb,1\n", "auc needs both classes"),
    ("id,p,model_version\na,0.9,latest\n", "id,y\na,1\n",
     "column 'model_version', row 2: 'latest' is not a model version"),
])
def test_a_bad_partition_fails_naming_what_is_wrong(tmp_path: Path, scores: str, labels: str,
                                                    message: str) -> None:
    with pytest.raises(PerformanceError) as caught:
        _run(tmp_path, scores, labels)
    assert message in str(caught.value)
    assert "model 'churn', partition 2026-01-02" in str(caught.value)


def test_too_many_versions(tmp_path: Path) -> None:
    scores = "id,p,model_version\n" + "".join(f"a,0.5,{v}\n" for v in range(1, 13))
    with pytest.raises(PerformanceError, match="holds 12 versions, more than 10"):
        _run(tmp_path, scores, "id,y\na,1\n")


def test_parquet_when_pandas_is_installed(tmp_path: Path) -> None:
    pandas = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    pandas.DataFrame({"id": ["a", "b"], "p": [0.9, 0.1]}).to_parquet(tmp_path / "s.parquet")
    pandas.DataFrame({"id": ["a", "b"], "y": [1, 0]}).to_parquet(tmp_path / "l.parquet")
    ctx = Context("r1", "2026-01-02", 1, tmp_path,
                  {"scores": tmp_path / "s.parquet", "bought": tmp_path / "l.parquet"},
                  {SPEC.name: tmp_path / "perf.json"}, logging.getLogger("test"))
    assert measure(SPEC, ctx)["auc"] == 1.0
