"""The base of the read side's records: a frozen record of typed fields (the existing enums where
a status is a concept), in the order of its JSON object, that also reads as the read-only mapping
of that object (``view["status"]`` is ``"running"``), so it compares equal to the JSON it stands
for. ``to_json`` is the one place a record becomes JSON: an enum becomes its value, a nested
record its object. The store's answers (``andon.store.views``) and the planner's
(``andon.planner.forecast``) are views; code reads their attributes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import fields, is_dataclass
from enum import Enum
from typing import Any, ClassVar

Json = dict[str, Any]  # a JSON object, as the API sends it


def to_json(value: Any) -> Any:
    """``value`` as JSON: views as their objects, other dataclass records as the object of their
    fields in order, enums as their values, lists, tuples and dicts element by element; anything
    else as it is."""
    if isinstance(value, View):
        return value.to_json()
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {to_json(k): to_json(v) for k, v in value.items()}
    return value


class View(Mapping[str, Any]):
    """The base of the read side's records (each a ``@dataclass(frozen=True, slots=True,
    eq=False)``: equality is the mapping's, so a view equals its JSON object). As a mapping, a
    view is its JSON object: field names in order, each value as JSON."""

    __slots__ = ()
    __dataclass_fields__: ClassVar[dict[str, Any]]

    def __getitem__(self, key: str) -> Any:
        if key not in self.__dataclass_fields__:
            raise KeyError(key)
        return to_json(getattr(self, key))

    def __iter__(self) -> Iterator[str]:
        return iter(self.__dataclass_fields__)

    def __len__(self) -> int:
        return len(self.__dataclass_fields__)

    def to_json(self) -> Json:
        """The JSON object of this view, its fields in order."""
        return dict(self.items())
