"""What a run may log about the model it trains (``ctx.log_metric``, ``ctx.log_params``): the
limits, spelled once, and the checks that turn a bad value into a clear failure of that run.

Pure functions (no I/O): each raises ``MetricProblem`` with a sentence naming the metric or
parameter and the fix; raised inside the pipeline's code, it fails the run, never the scheduler."""

from __future__ import annotations

import math
import re
from numbers import Real

from andon.model.limits import name_problem

MAX_METRICS = 200  # metrics per run
MAX_PARAMS = 200  # parameters per run
MAX_PARAM_VALUE = 1_000  # characters of a parameter's value, as text


class MetricProblem(ValueError):
    """A metric or parameter a run cannot log: the message names it and says what to do."""


PER_VERSION = re.compile(r"[^@]+@v[1-9][0-9]{0,8}")  # METRIC@vN: measured for one model version


def checked_metric(name: object, value: object, logged: int) -> tuple[str, float]:
    """``(name, value)`` as a run records it, ``logged`` being how many other metrics the run
    has: MetricProblem for a name that is no identifier (``NAME@vN`` too: a metric measured for
    version N of a model, in shadow), a value that is not a finite real number (NaN, infinite,
    a string, a bool), or one metric too many."""
    base = name.split("@v", 1)[0] if isinstance(name, str) and PER_VERSION.fullmatch(name) \
        else name
    bad = name_problem("metric", base)
    if bad:
        raise MetricProblem(bad)
    if isinstance(value, bool) or not isinstance(value, Real):
        raise MetricProblem(f"metric {name!r} = {_short(value)} is not a number; log a float, "
                            f"e.g. ctx.log_metric({name!r}, 0.91)")
    try:
        number = float(value)
    except OverflowError:  # an int past float's range
        number = math.inf
    if not math.isfinite(number):
        raise MetricProblem(f"metric {name!r} is {number} (not a finite number); check how it "
                            "is computed (an empty set, a division by zero)")
    if logged >= MAX_METRICS:
        raise MetricProblem(f"metric {name!r} is one too many: a run logs at most {MAX_METRICS} "
                            "metrics; log the ones a person compares versions by")
    return str(name), number


def checked_param(name: object, value: object, logged: int) -> tuple[str, str]:
    """``(name, value as text)`` as a run records it, ``logged`` being how many other parameters
    the run has: MetricProblem for a name that is no identifier, a value longer than
    MAX_PARAM_VALUE characters as text, or one parameter too many."""
    bad = name_problem("parameter", name)
    if bad:
        raise MetricProblem(bad)
    text = value if isinstance(value, str) else repr(value)
    if len(text) > MAX_PARAM_VALUE:
        raise MetricProblem(f"parameter {name!r} is {len(text)} characters as text, more than "
                            f"{MAX_PARAM_VALUE}; log a summary (a hash, a file name) instead")
    if logged >= MAX_PARAMS:
        raise MetricProblem(f"parameter {name!r} is one too many: a run logs at most "
                            f"{MAX_PARAMS} parameters")
    return str(name), text


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:40] + f"... ({len(text)} characters)"
