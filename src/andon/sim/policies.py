"""The policies the simulator compares: the dispatch policies of ``andon up`` (the one list,
``andon.model.dispatch``), two baselines modelling other orchestrators and an unbounded fifo.

Kept apart from ``andon.sim.run`` so the CLI can name them without importing the simulator.
"""

from __future__ import annotations

from andon.model.dispatch import DEFAULT_POLICY, Policy

BASELINES = ("cron", "cron-poke")  # other orchestrators' ways (``andon.sim.baselines``)
BOUND = "bound"  # fifo with unbounded pools: the best any policy could do
# driven through the engine as ``andon up`` drives them; cpsat too, but only when OR-Tools is there
EVENT_POLICIES: tuple[str, ...] = (*(p.value for p in Policy if p is not Policy.CPSAT), BOUND)
# the comparison's rows: the baselines first, the default last before the bound
ALL_POLICIES: tuple[str, ...] = (
    *BASELINES, *(p.value for p in Policy if p is not DEFAULT_POLICY), DEFAULT_POLICY.value, BOUND)
