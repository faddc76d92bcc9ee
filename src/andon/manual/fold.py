"""The manual folded from the store's facts: a ``Ledger`` holds every problem with its signature
and every resolution, takes what changed since it last looked, and gives the entries, a failed
run's hint and whether an occurrence is a regression.

A failure that a retry followed is not an occurrence of its entry (it did not fail for good):
the ledger holds the problems for good only (a year of them is read at once), and signs an
attempt that was retried when its run asks for its hint. A cord's resolve note is a resolution
of the cord's entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from andon.events import Frame
from andon.manual.entries import KINDS, Hint, ManualEntry, Occurrence, Resolution
from andon.manual.rules import Rule
from andon.manual.signature import Signature, data_signature, signature
from andon.store.manual import ProblemRow, ResolutionRow

Reached = Callable[[Iterable[str], Iterable[str]], tuple[str, ...]]  # pipelines, assets -> who


def signature_of(row: ProblemRow, rules: tuple[Rule, ...]) -> Signature:
    """The signature of one stored problem."""
    if row.kind in ("failure", "lost"):
        return signature(row.pipeline, row.error_type, row.message,
                         tuple(Frame(f, fn) for f, fn in row.frames), rules, row.masked)
    return data_signature(row.kind, row.pipeline, row.asset, row.check_name, row.message,
                          row.masked)


@dataclass
class Ledger:
    """Every problem for good (by seq) with its signature, and every resolution, as folded so
    far; ``touched``/``resolved_upto``/``code_upto``: how far it has read the store."""

    rules: tuple[Rule, ...] = ()
    problems: dict[int, ProblemRow] = field(default_factory=dict)
    signatures: dict[int, Signature] = field(default_factory=dict)
    resolutions: list[ResolutionRow] = field(default_factory=list)
    ranks: dict[str, int] = field(default_factory=dict)  # code version -> seq of its first run
    by_run: dict[str, int] = field(default_factory=dict)  # run id -> its problem's seq
    by_cord: dict[str, str] = field(default_factory=dict)  # cord id -> its entry
    by_entry: dict[str, set[int]] = field(default_factory=dict)  # entry -> its problems' seqs
    touched: int = 0
    resolved_upto: int = 0
    code_upto: int = 0

    def take(self, problems: Iterable[ProblemRow], resolutions: Iterable[ResolutionRow],
             code: Iterable[tuple[str, int]]) -> bool:
        """Fold what changed; whether anything did."""
        changed = False
        for row in problems:
            changed = True
            self.touched = max(self.touched, row.touched)
            sig = self.signatures.get(row.seq)
            if row.retried:  # a retry followed: not (or no longer) a problem for good
                if sig is not None:
                    del self.signatures[row.seq], self.problems[row.seq]
                    self.by_entry[sig.id].discard(row.seq)
                    self.by_run.pop(row.run_id, None)
                continue
            if sig is None:
                self.signatures[row.seq] = sig = signature_of(row, self.rules)
                if row.run_id:
                    self.by_run[row.run_id] = row.seq
                if row.cord_id:
                    self.by_cord[row.cord_id] = sig.id
                self.by_entry.setdefault(sig.id, set()).add(row.seq)
            self.problems[row.seq] = row
        for res in resolutions:
            changed = True
            self.resolutions.append(res)
            self.resolved_upto = max(self.resolved_upto, res.seq)
        for version, seq in code:
            self.ranks[version] = min(seq, self.ranks.get(version, seq))
            self.code_upto = max(self.code_upto, seq)
        return changed

    def entry_of(self, res: ResolutionRow) -> str:
        return res.entry or self.by_cord.get(res.cord_id, "")

    def fixes(self) -> dict[str, list[ResolutionRow]]:
        """Each entry's resolutions, oldest first."""
        out: dict[str, list[ResolutionRow]] = {}
        for res in self.resolutions:
            entry = self.entry_of(res)
            if entry:
                out.setdefault(entry, []).append(res)
        return out

    def regression(self, row: ProblemRow, fixes: list[ResolutionRow]) -> bool:
        """Whether ``row`` came after a resolution of its entry from code as new as the fix's:
        a run whose code version first ran no earlier than the one in force when the fix was
        written (or, when that never ran, than the fix itself). A problem with no code version
        (a cord, a check, a deadline) after a fix is one."""
        before = [r for r in fixes if r.seq < row.seq]
        if not before:
            return False
        fix = before[-1]
        if not row.code_version:
            return True
        fix_rank = self.ranks.get(fix.code_version, fix.seq) if fix.code_version else fix.seq
        return self.ranks.get(row.code_version, row.seq) >= fix_rank

    def entries(self, reached: Reached) -> list[ManualEntry]:
        """Every entry with at least one occurrence (a problem for good), by kind (KINDS'
        order) and newest last occurrence first; ``reached``: the consumers downstream of
        pipelines and data sets."""
        fixes = self.fixes()
        grouped: dict[str, list[ProblemRow]] = {}
        for seq in sorted(self.problems):
            grouped.setdefault(self.signatures[seq].id, []).append(self.problems[seq])
        out = []
        for entry_id, rows in grouped.items():
            sig = self.signatures[rows[-1].seq]
            done = fixes.get(entry_id, [])
            occurrences = [_occurrence(r, entry_id, self.regression(r, done)) for r in rows]
            pipelines = _names(r.pipeline for r in rows)
            assets = _names(r.asset for r in rows)
            out.append(ManualEntry(
                id=entry_id, kind=rows[-1].kind, title=sig.title, pipelines=pipelines,
                assets=assets, occurrences=occurrences,
                resolutions=[_resolution(r, entry_id) for r in done],
                partitions=_names(f"{r.asset or r.pipeline} {r.partition}" for r in rows),
                consumers=reached(pipelines, assets), regression=occurrences[-1].regression,
                error_type=sig.error_type, file=sig.file, function=sig.function,
                fingerprint=sig.fingerprint))
        out.sort(key=lambda e: e.last_seen, reverse=True)
        out.sort(key=lambda e: KINDS.index(e.kind))  # by how it manifested, newest first
        return out

    def hint(self, run_id: str, retried: Callable[[str], ProblemRow | None]) -> Hint | None:
        """The hint of a failed run: its entry seen at least twice, or resolved before; None
        for a run with no stored failure or a problem seen once and never fixed. ``retried``
        finds the stored failure of a run the ledger does not hold (one a retry followed)."""
        seq = self.by_run.get(run_id)
        if seq is not None:
            row, sig = self.problems[seq], self.signatures[seq]
        else:
            found = retried(run_id)
            if found is None:
                return None
            row, sig, seq = found, signature_of(found, self.rules), found.seq
        # seen: the entry's occurrences, failures for good; an attempt a retry followed is
        # not one, but still gets the hint (with at least itself as seen)
        same = [self.problems[s] for s in self.by_entry.get(sig.id, ())] or [row]
        fixes = [r for r in self.resolutions if self.entry_of(r) == sig.id]
        before = [r for r in fixes if r.seq < seq]
        if len(same) < 2 and not before:
            return None
        return Hint(sig.id, sig.title, len(same), min(r.at for r in same),
                    _resolution(before[-1], sig.id) if before else None,
                    self.regression(row, fixes))


def _names(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({v for v in values if v}))


def _occurrence(row: ProblemRow, entry: str, regression: bool) -> Occurrence:
    return Occurrence(kind=row.kind, entry=entry, pipeline=row.pipeline, asset=row.asset,
                      partition=row.partition, at=row.at, began=row.began,
                      recovered=row.recovered, recovered_by=row.recovered_by,
                      run_id=row.run_id, cord_id=row.cord_id,
                      check=row.check_name, error_type=row.error_type, message=row.message,
                      code_version=row.code_version, commit=row.git_commit,
                      regression=regression, seq=row.seq)


def _resolution(res: ResolutionRow, entry: str) -> Resolution:
    return Resolution(entry=entry, note=res.note, at=res.at, link=res.link,
                      commit=res.git_commit, by=res.by, code_version=res.code_version,
                      cord_id=res.cord_id)
