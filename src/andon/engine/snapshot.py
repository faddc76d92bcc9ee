"""The engine state as plain JSON data, and back: what an engine-state snapshot stores.

``to_data`` walks the state's dataclasses and turns them into lists, dicts, strings and
numbers (a dict becomes a list of ``[key, value]`` pairs, since its keys are often tuples;
times become ISO-8601 text; enums their value; the events the state holds their stored form,
``andon.events.codec``). ``from_data`` rebuilds the objects from the field types the dataclasses
declare, so a new field of a book is carried without code here, and a value that does not fit its
declared type raises ``SnapshotError`` (the caller then replays the log instead). Nothing is
pickled: a snapshot holds data only, never code.

Pure: no I/O, no clock. ``FORMAT`` numbers this encoding; a change to what a field means (not
just a new field with a default) must raise it, so older snapshots are ignored.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import types
import typing
from collections.abc import Callable, Generator
from datetime import datetime
from typing import Any, cast

from andon.engine.state import EngineState
from andon.events import Event
from andon.events.codec import format_time, from_dict, parse_time, to_dict
from andon.model.graph import Graph

FORMAT = 1  # the encoding of a snapshot's engine state (see the module docstring)


def graph_digest(graph: Graph) -> str:
    """A digest of what the engine state depends on in the project's definitions: their content
    hash (``code_version``) and the graph built from them with ``andon.toml`` (assets and their
    partitions, pipelines with the options the engine reads, pools, blocking checks). A snapshot
    made under another digest is never used: the log is replayed instead."""
    parts: list[str] = [graph.code_version, repr(graph.sweep_every)]
    for name in sorted(graph.assets):
        asset = graph.assets[name]
        parts.append(f"a {name} {asset.partitions!r} {graph.gated.get(name, 0)}")
    for name in sorted(graph.pipelines):
        p = graph.pipelines[name]
        inputs = ",".join(f"{i.asset}/{i.mapping.describe()}" for i in p.inputs)
        parts.append(f"p {name} {inputs} {p.outputs} {p.partitions!r} {p.pool} {p.slots} "
                     f"{p.retries} {p.retry_delay} {p.max_concurrent} {p.on_upstream_change} "
                     f"{p.on_cord} {p.bad_outputs} {p.models}")
    parts.extend(f"o {name} {pool.capacity}" for name, pool in sorted(graph.pools.items()))
    parts.append(repr(sorted(graph.serving.items())) + repr(sorted(graph.model_producer.items())))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


class SnapshotError(ValueError):
    """A snapshot's data does not fit the engine state's types: never used, the log is replayed."""


_PLAIN = (str, int, float, bool, type(None))
_ENCODERS: dict[type, Callable[[Any], Any]] = {}  # one function per exact type, made once


def to_data(value: Any) -> Any:
    """``value`` (the engine state or any part of it) as JSON-ready data."""
    kind = type(value)
    if kind in _PLAIN:  # the bulk of a state: names, keys, numbers (exact types: not enums)
        return value
    encode = _ENCODERS.get(kind)
    if encode is None:
        encode = _ENCODERS[kind] = _encoder(kind)
    return encode(value)


def _same(value: Any) -> Any:
    return value


def _encoder(kind: type) -> Callable[[Any], Any]:  # noqa: C901 - one branch per kind of type
    """How values of exactly this type become data (``to_data``); SnapshotError for a type a
    snapshot cannot hold."""
    if issubclass(kind, enum.Enum):
        return lambda value: value.value
    if issubclass(kind, datetime):
        return format_time
    if issubclass(kind, Event):
        return to_dict
    if dataclasses.is_dataclass(kind):
        names = tuple(f.name for f in dataclasses.fields(kind))
        return lambda value: {name: to_data(getattr(value, name)) for name in names}
    if issubclass(kind, (bool, int, float, str)):
        return _same
    if issubclass(kind, dict):
        return lambda value: [[to_data(k), to_data(v)] for k, v in value.items()]
    if issubclass(kind, (set, frozenset)):
        # sorted, so that the same state always gives the same bytes
        return lambda value: sorted((to_data(v) for v in value), key=repr)
    if issubclass(kind, (list, tuple)):
        return lambda value: [to_data(v) for v in value]
    raise SnapshotError(f"cannot store a {kind.__name__} in a snapshot")


Decoder = Callable[[Any], Any]
_DECODERS: dict[Any, Decoder] = {}  # one function per type hint, made once (see ``from_data``)


def from_data(hint: Any, data: Any) -> Any:
    """Rebuild a value of type ``hint`` from ``to_data`` output; SnapshotError when it does not
    fit. The type hint is turned into a function once (``decoder``), so a state of many runs
    walks no type hints per value."""
    return decoder(hint)(data)


def decoder(hint: Any) -> Decoder:
    """The function that rebuilds values of type ``hint`` (made on first use, then kept)."""
    found = _DECODERS.get(hint)
    if found is None:
        found = _DECODERS[hint] = _make(hint)
    return found


def _fail(message: str) -> Decoder:
    def fail(data: Any) -> Any:
        raise SnapshotError(message)
    return fail


def _required(hint: Any, inner: Decoder) -> Decoder:
    def required(data: Any) -> Any:
        if data is None:
            raise SnapshotError(f"a missing value where {hint} was expected")
        return inner(data)
    return required


def _make(hint: Any) -> Decoder:  # noqa: C901 - one branch per kind of type
    if hint is Any or hint is object:
        return lambda data: data
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        inner: Decoder
        if all(isinstance(a, type) and issubclass(a, Event) for a in options):
            inner = _event
        elif len(options) != 1:
            inner = _fail(f"cannot rebuild a value of {hint}")
        else:
            inner = decoder(options[0])
        return lambda data: None if data is None else inner(data)
    if origin in (dict, set, frozenset, list, tuple):
        return _required(hint, _container(hint, origin, typing.get_args(hint)))
    if not isinstance(hint, type):
        return _fail(f"cannot rebuild a value of {hint}")
    if issubclass(hint, Event):
        return _required(hint, _event)
    if dataclasses.is_dataclass(hint):
        return _required(hint, _dataclass(hint))
    return _required(hint, _scalar(hint))


def _container(hint: Any, origin: Any, args: tuple[Any, ...]) -> Decoder:
    def guarded(build: Decoder) -> Decoder:
        def run(data: Any) -> Any:
            try:
                return build(data)
            except (TypeError, ValueError) as exc:
                if isinstance(exc, SnapshotError):
                    raise
                raise SnapshotError(f"cannot rebuild {hint}: {exc}") from None
        return run

    if origin is dict:
        key, value = decoder(args[0]), decoder(args[1])
        return guarded(lambda data: {key(k): value(v) for k, v in data})
    if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
        items = [decoder(a) for a in args]

        def fixed(data: Any) -> Any:
            if len(items) != len(data):
                raise SnapshotError(f"expected {len(items)} items for {hint}, got {len(data)}")
            return tuple(item(v) for item, v in zip(items, data))
        return guarded(fixed)
    item = decoder(args[0])
    make = origin if origin in (set, frozenset, tuple) else list
    return guarded(lambda data: make(item(v) for v in data))


def _dataclass(cls: type) -> Decoder:
    plan: tuple[tuple[str, bool, Decoder], ...] | None = None  # made on first use: a type may
    # refer to itself; assigned whole, so a thread never sees half of it

    def build(data: Any) -> Any:
        nonlocal plan
        if not isinstance(data, dict):
            raise SnapshotError(f"{cls.__name__}: expected an object, got {type(data).__name__}")
        if plan is None:
            hints = typing.get_type_hints(cls)
            plan = tuple((f.name, f.init, decoder(hints[f.name])) for f in dataclasses.fields(cls))
        given: dict[str, Any] = {}
        later: dict[str, Any] = {}
        for name, init, field_decoder in plan:
            if name in data:  # else a field newer than the snapshot: its default
                (given if init else later)[name] = field_decoder(data[name])
        obj = cls(**given)
        for name, value in later.items():
            object.__setattr__(obj, name, value)
        return obj
    return build


def _scalar(hint: type) -> Decoder:
    if issubclass(hint, enum.Enum):
        def member(data: Any) -> Any:
            try:
                return hint(data)
            except ValueError:
                raise SnapshotError(f"{data!r} is not a {hint.__name__}") from None
        return member
    if hint is datetime:
        def moment(data: Any) -> Any:
            try:
                return parse_time(data)
            except (TypeError, ValueError):
                raise SnapshotError(f"{data!r} is not a time") from None
        return moment

    def plain(data: Any) -> Any:
        if type(data) is hint:
            return data
        if hint is float and type(data) is int:
            return float(data)
        raise SnapshotError(f"{data!r} is not a {hint.__name__}")
    if hint in (bool, int, float, str):
        return plain
    return _fail(f"cannot rebuild a value of {hint.__name__}")


def _event(data: Any) -> Event:
    try:
        return from_dict(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise SnapshotError(f"an event that cannot be read back: {exc}") from None


# fields that hold the very Run objects of ``runs`` (a queued run is changed in place when it
# starts): stored as run ids, so that they are the same objects again once read back
_RUN_REFERENCES = ("queue", "last_end")


STEP_ITEMS = 1000  # entries of a book converted between two pauses of ``state_to_data_steps``


def state_to_data_steps(state: EngineState, step: int = STEP_ITEMS
                        ) -> Generator[None, None, dict[str, Any]]:
    """``state_to_data`` a piece at a time: pauses (yields) after every ``step`` entries of a book
    and after every other field; its return value is the data. Between two pauses the state
    must not change: a caller that lets the engine act on it drops the generator and starts
    again (the live shell converts at idle moments and gives up when work arrives)."""
    data: dict[str, Any] = {}
    for f in dataclasses.fields(state):
        if f.name in _RUN_REFERENCES:
            continue
        value = getattr(state, f.name)
        if type(value) is dict and len(value) > step:
            pairs: list[Any] = []
            for i, (k, v) in enumerate(value.items(), 1):
                pairs.append([to_data(k), to_data(v)])
                if i % step == 0:
                    yield
            data[f.name] = pairs
        else:
            data[f.name] = to_data(value)
        yield
    data["queue"] = list(state.queue)
    data["last_end"] = [[to_data(k), run.run_id] for k, run in state.last_end.items()]
    return data


def state_to_data(state: EngineState) -> dict[str, Any]:
    """The engine state as JSON-ready data."""
    steps = state_to_data_steps(state)
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return cast(dict[str, Any], done.value)


def state_from_data(data: Any) -> EngineState:
    """The engine state ``state_to_data`` gave; SnapshotError when the data does not fit."""
    if not isinstance(data, dict):
        raise SnapshotError("an engine state is an object")
    plain = {k: v for k, v in data.items() if k not in _RUN_REFERENCES}
    state = from_data(EngineState, plain)
    assert isinstance(state, EngineState)
    runs = state.runs
    try:
        state.queue = {run_id: runs[run_id] for run_id in data.get("queue", ())}
        state.last_end = {from_data(tuple[str, str], k): runs[run_id]
                          for k, run_id in data.get("last_end", ())}
    except (KeyError, TypeError, ValueError) as exc:
        raise SnapshotError(f"a run the snapshot refers to is not in it: {exc}") from None
    return state
