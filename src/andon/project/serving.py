"""Load-time resolution of ``andon.serving(MODEL)`` inputs: which data set holds a model's
artifact.

A model is made by the pipeline whose ``models=`` names it (its producer); the artifact of one
of its versions is the partition of the producer's output that the version's run wrote. This
turns each serving input into an input of that output (with the ``Serving`` mapping, which
reaches no partition by itself: the engine adds the serving version's partition), or reports,
naming the file, the pipeline and the fix: a model no pipeline makes, several pipelines making
it, an output that is not the producer's (or none named when it has several), and a pipeline
reading the serving version of a model it makes itself.
"""

from __future__ import annotations

from dataclasses import replace

from andon.model.definitions import Input, Pipeline
from andon.model.limits import name_problem
from andon.model.partitions import Serving
from andon.model.words import did_you_mean


def resolve_serving(pipes: list[Pipeline], problems: list[str]) -> list[Pipeline]:
    """``pipes`` with every serving input bound to its model's artifact data set; each problem
    appended to ``problems`` (and the input dropped)."""
    makers: dict[str, list[Pipeline]] = {}
    for pipe in pipes:
        for model in pipe.models:
            makers.setdefault(model, []).append(pipe)
    out = []
    for pipe in pipes:
        if not any(isinstance(i.mapping, Serving) for i in pipe.inputs):
            out.append(pipe)
            continue
        inputs = []
        for inp in pipe.inputs:
            if not isinstance(inp.mapping, Serving):
                inputs.append(inp)
                continue
            bound = _bind(pipe, inp.mapping, makers.get(inp.mapping.model, []), makers, problems)
            if bound is not None:
                inputs.append(bound)
        out.append(replace(pipe, inputs=tuple(inputs)))
    return out


def _bind(pipe: Pipeline, serving: Serving, made_by: list[Pipeline],
          makers: dict[str, list[Pipeline]], problems: list[str]) -> Input | None:
    model = serving.model
    head = f"{pipe.where}: pipeline {pipe.name!r} reads andon.serving({model!r})"
    bad = name_problem("model", model) or (serving.output and name_problem("output",
                                                                           serving.output))
    if bad:
        problems.append(f"{head}: {bad}; name a model of the catalog, e.g. "
                        "andon.serving('churn')")
        return None
    if not made_by:
        problems.append(f"{head}, but no pipeline makes model {model!r}; "
                        + did_you_mean(model, makers)
                        + f"add models=[{model!r}] to the pipeline that trains it")
        return None
    if len(made_by) > 1:
        names = ", ".join(repr(p.name) for p in made_by)
        problems.append(f"{head}, but pipelines {names} all make model {model!r}; "
                        "keep models=[...] on the one that trains it")
        return None
    producer = made_by[0]
    if producer.name == pipe.name:
        problems.append(f"{head}, a model it makes itself (models=[{model!r}]): a cycle; "
                        "read its own output instead, or score in another pipeline")
        return None
    if serving.output:
        if serving.output not in producer.outputs:
            problems.append(f"{head}, output={serving.output!r}, which is not an output of its "
                            f"producer {producer.name!r} (outputs: "
                            f"{', '.join(producer.outputs) or 'none'}); name one of those")
            return None
        return Input(serving.output, Serving(model, serving.output))
    if len(producer.outputs) != 1:
        problems.append(f"{head}, but its producer {producer.name!r} has "
                        f"{len(producer.outputs)} outputs ({', '.join(producer.outputs)}); say "
                        f"which holds the model: andon.serving({model!r}, "
                        f"output={producer.outputs[0] if producer.outputs else 'NAME'!r})")
        return None
    return Input(producer.outputs[0], Serving(model, producer.outputs[0]))
