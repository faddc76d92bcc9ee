"""The Dask executor's settings (``dask_scheduler``, ``dask_adaptive``), checked where they are
resolved: a wrong one stops ``andon up`` at start with exit code 2, naming the setting and the fix.

``dask_scheduler`` is the address of a running Dask scheduler (``tcp://host:8786`` or
``tls://host:8786``); empty: ``andon up --executor dask`` starts a ``LocalCluster`` of its own.
``dask_adaptive`` is ``{min = 0, max = N}`` in ``andon.toml`` or ``MIN:MAX`` in the environment
(``ANDON_DASK_ADAPTIVE=0:4``); empty: a fixed number of workers.
"""

from __future__ import annotations

import re
from typing import Any

from andon.model.errors import ConfigError

ADDRESS = re.compile(r"(tcp|tls)://(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*):([0-9]{1,5})/?")
MAX_ADDRESS = 512  # characters of a scheduler address
MAX_WORKERS = 256  # most workers an adaptive LocalCluster may ask for on one machine
DASK_WORKERS = 2  # workers of a LocalCluster that does not adapt


def check_scheduler(address: str) -> str:
    """``address`` when it is empty or ``tcp://host:port`` / ``tls://host:port``; else a
    ConfigError."""
    if not address:
        return ""
    hint = "give dask_scheduler as tcp://host:8786 or tls://host:8786 (empty: a local cluster)"
    if len(address) > MAX_ADDRESS:
        raise ConfigError(f"dask_scheduler is longer than {MAX_ADDRESS} characters", hint=hint)
    match = ADDRESS.fullmatch(address)
    if match is None or not 0 < int(match[3]) < 65536:
        raise ConfigError(f"dask_scheduler {address!r} is not a tcp:// or tls:// address "
                          "with a host and a port", hint=hint)
    return address


def check_adaptive(value: Any) -> tuple[int, int] | None:
    """``(min, max)`` of ``dask_adaptive`` (None: off): a table ``{min = 0, max = N}`` or the
    text ``MIN:MAX``, with ``0 <= min <= max``, ``1 <= max <= MAX_WORKERS``."""
    if value in (None, "", {}):
        return None
    hint = (f"give dask_adaptive = {{min = 0, max = N}} (ANDON_DASK_ADAPTIVE=0:N) with "
            f"0 <= min <= max and 1 <= max <= {MAX_WORKERS}")
    if isinstance(value, str):
        low, sep, high = value.partition(":")
        if not sep:
            raise ConfigError(f"dask_adaptive {value[:64]!r} is not MIN:MAX", hint=hint)
        value = {"min": low.strip(), "max": high.strip()}
    if not isinstance(value, dict) or set(value) != {"min", "max"}:
        raise ConfigError("dask_adaptive must have exactly the keys min and max", hint=hint)
    bounds: list[int] = []
    for key in ("min", "max"):
        raw = value[key]
        if isinstance(raw, bool) or not (isinstance(raw, int) or
                                         (isinstance(raw, str) and raw.isdigit()
                                          and len(raw) <= 6)):
            raise ConfigError(f"dask_adaptive {key} = {str(raw)[:64]!r} is not a whole number",
                              hint=hint)
        bounds.append(int(raw))
    least, most = bounds
    if not (0 <= least <= most and 1 <= most <= MAX_WORKERS):
        raise ConfigError(f"dask_adaptive = {{min = {least}, max = {most}}} is out of range",
                          hint=hint)
    return least, most
