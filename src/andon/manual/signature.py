"""A failure's signature: what makes two failures the same problem.

Built from the pipeline, the exception class, the innermost frame in the project's code (file and
function, not the line) and the message with its variable parts masked. Pure: the same inputs
give the same signature in any process, so signatures can be recomputed from the log whenever
the rules change.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from andon.events import Frame
from andon.manual.rules import Rule, matching_rule
from andon.model.masks import MAX_ERROR_MESSAGE, mask

MAX_TITLE = 200  # characters of a signature's title (the masked message is kept whole in parts)


@dataclass(frozen=True)
class Signature:
    """A failure's signature: ``id``, a short stable hash; ``title``, the exception and the
    masked message (or the name of the rule's fingerprint); and the parts it was built from
    (``fingerprint`` is the rule's name when a rule decided the grouping, else empty)."""

    id: str
    title: str
    pipeline: str
    error_type: str
    masked_message: str
    file: str = ""
    function: str = ""
    fingerprint: str = ""


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode("utf-8", "replace")).hexdigest()[:12]


def signature(pipeline: str, error_type: str, error_message: str,
              frames: Sequence[Frame] = (), rules: Sequence[Rule] = (),
              masked: str | None = None) -> Signature:
    """The signature of a failure of ``pipeline`` (``frames``: innermost last). The first of
    ``rules`` that matches decides it by its fingerprint: failures it matches are one problem
    whatever their pipeline, message or frames. ``masked``: ``mask(error_message)`` when the
    caller has it already (the store records it with each problem)."""
    masked = mask(error_message) if masked is None else masked
    inner = frames[-1] if frames else Frame("", "")
    rule = matching_rule(rules, pipeline, error_message[:MAX_ERROR_MESSAGE])
    if rule is not None:
        # "rule" first: a fingerprint's id can never equal a computed one
        return Signature(_digest("rule", rule.fingerprint), rule.fingerprint[:MAX_TITLE],
                         pipeline, error_type, masked, inner.file, inner.function,
                         rule.fingerprint)
    title = f"{error_type}: {masked}" if masked else error_type
    return Signature(_digest("computed", pipeline, error_type, masked, inner.file, inner.function),
                     title[:MAX_TITLE], pipeline, error_type, masked, inner.file, inner.function)


def data_signature(kind: str, pipeline: str, asset: str, check: str = "",
                   message: str = "", masked: str | None = None) -> Signature:
    """The signature of a problem no exception showed (``kind`` check, cord or deadline): a
    failing check is one problem per data set and check, a cord one per data set and masked
    reason, a missed deadline one per pipeline. Each id is built under its kind's name, so it
    can never equal a failure's or a rule's. ``masked``: ``mask(message)``, when known."""
    masked = mask(message) if masked is None else masked
    if kind == "check":
        return Signature(_digest("check", asset, check), f"check {check} failed on {asset}"
                         [:MAX_TITLE], pipeline, "", masked)
    if kind == "cord":
        return Signature(_digest("cord", asset, masked), f"cord on {asset}: {masked}"[:MAX_TITLE],
                         pipeline, "", masked)
    return Signature(_digest("deadline", pipeline), f"missed deadline of {pipeline}"[:MAX_TITLE],
                     pipeline, "", "")
