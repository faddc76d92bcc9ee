"""The command line. Data goes to stdout, logs to stderr; exit codes: 0 ok, 1 a run or check
failed, 2 usage or configuration error. Heavy modules are imported inside the commands so that
``andon --help`` starts fast.

The ``andon`` console script is ``andon.cli.fast:main``: it answers ``andon --help``,
``--version`` and ``andon status`` against a running server without importing click or any
command (``andon.cli.fast``), and hands everything else to ``main``. So this package imports
nothing until ``main`` is asked for (``from andon.cli import main``).

``main`` is the ``andon`` group (``andon.cli.group``); each of these modules adds its commands to it:
``start`` (init, validate, up), ``writes`` (notify, run, backfill, cancel; ``--wait`` in
``waiting``), ``materialize``, ``access``
(access requests, subscribe, unsubscribe), ``queries`` (status, plan, runs, logs), ``catalog``
(search), ``cords``, ``manual`` (the operations manual), ``models`` (model versions and promotions),
``drift``, ``tokens`` and ``lab`` (simulate,
scenario, demo). The commands that talk to andon do it through one ``Client`` (``andon.cli.client``): a
running ``andon up`` over HTTP, or the store directly when none is running."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from andon.cli.group import main

__all__ = ["main"]


def __getattr__(name: str) -> object:
    """``main``: the click group, with every command module imported (each adds its own)."""
    if name != "main":
        raise AttributeError(f"module 'andon.cli' has no attribute {name!r}")
    from andon.cli import (  # noqa: F401  (they add commands)
        access,
        audit,
        catalog,
        cords,
        drift,
        lab,
        manual,
        materialize,
        models,
        queries,
        start,
        sweep,
        tokens,
        writes,
    )
    from andon.cli.group import main

    return main
