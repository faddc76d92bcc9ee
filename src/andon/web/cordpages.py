"""What the cord pages show (the list at ``/cords`` and one cord at ``/cords/{id}``), made from
the cord views (``andon.cord.views``): no SQL, no markup here."""

from __future__ import annotations

from dataclasses import dataclass

from andon.cord import incidents
from andon.cord.views import CordDetail, Incident, SuspectOutput
from andon.engine.cords import CordStatus
from andon.live.service import Service

CORD_STEPS = {"produced_bad": "produced bad", "detected": "detected", "pulled": "pulled",
              "resolved": "resolved", "remade": "re-made", "recovered": "recovered"}
# a cord's status: the colour of its pill and what it means for the line
CORD_STATUS = {CordStatus.PULLED: ("red", "open: halting"),
               CordStatus.RESOLVING: ("amber", "resolved: re-making"),
               CordStatus.RELEASED: ("green", "released"),
               CordStatus.RECOVERED: ("green", "recovered")}


@dataclass(frozen=True, slots=True)
class CordItem:
    """A cord in the list, with the colour and word of its status pill (as on its page)."""

    cord: Incident
    colour: str
    state: str


@dataclass(frozen=True, slots=True)
class PageStep:
    """A step of the incident's timeline in words; ``run_id`` the re-make run to link."""

    step: str
    at: str
    label: str
    note: str
    run_id: str


@dataclass(frozen=True, slots=True)
class HaltLine:
    """A (pipeline, partition) the cord halts now, with the data sets the pipeline makes."""

    pipeline: str
    partition: str
    outputs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CordPage:
    """One cord as its page shows it: the incident, its timeline in words and the steps still
    to come, what it halts now, its suspect outputs, its status pill and whether it can be
    resolved (it is pulled)."""

    cord: Incident
    timeline: tuple[PageStep, ...]
    pending: tuple[str, ...]
    halted: tuple[HaltLine, ...]
    outputs: tuple[SuspectOutput, ...]
    colour: str
    state: str
    resolvable: bool


def cord_view(svc: Service, cord_id: str) -> CordPage:
    """One cord as its page shows it; the quarantined outputs are restorable
    (``SuspectOutput.restorable``). NotFound for an unknown id."""
    detail: CordDetail = incidents.cord(svc.store, cord_id)
    c = detail.incident
    made_by = f" by {c.producer}" if c.producer else ""
    if c.manual_fix:
        remade = "accepted as fixed by hand"
    else:
        remade = "by run" if c.remake_run_id else ""  # the page links the run
    notes = {"produced_bad": f"version {c.version} made{made_by}",
             "detected": f"by {c.pulled_by}" if c.pulled_by.startswith("check:") else "",
             "pulled": f"by {c.pulled_by or 'someone'}",
             "resolved": f"by {c.resolved_by or 'someone'}: {c.note}",
             "remade": remade,
             "recovered": "every partition it affected was re-made"}
    timeline = tuple(PageStep(s.step, s.at, CORD_STEPS[s.step], notes[s.step],
                              c.remake_run_id if s.step == "remade" and not c.manual_fix else "")
                     for s in c.timeline)
    steps = list(CORD_STEPS)  # the incident's timeline comes in this order
    done = steps.index(timeline[-1].step) + 1 if timeline else 0
    pipes = svc.graph.pipelines
    halts = tuple(HaltLine(h.pipeline, h.partition,
                           tuple(pipes[h.pipeline].outputs) if h.pipeline in pipes else ())
                  for h in detail.halts)
    colour, word = CORD_STATUS[c.status]
    return CordPage(c, timeline, tuple(CORD_STEPS[step] for step in steps[done:]), halts,
                    detail.outputs, colour, word, c.status is CordStatus.PULLED)


def cord_list(svc: Service, everything: bool, limit: int, offset: int) -> list[CordItem]:
    """A page of the cord list: open cords first, then the others, each newest first."""
    return [CordItem(c, *CORD_STATUS[c.status])
            for c in incidents.cords(svc.store, everything, open_first=True, limit=limit,
                                     offset=offset)]
