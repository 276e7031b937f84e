"""Collecting findings with bounded memory: the first few per rule are kept, the rest counted.

A 1 GB table can have millions of small cells; a reviewer needs the first ones and the total,
and the checker must not grow a list with the file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from airlock.checks import Finding, Location, Verdict


@dataclasses.dataclass
class _Overflow:
    verdict: Verdict
    count: int = 0


class FindingSink:
    """Findings of one file. ``add`` keeps the first ``cap`` findings of each rule; beyond that
    it counts them, and ``findings()`` ends with one summary finding per overflowing rule."""

    def __init__(self, cap: int = 20, *, where: str = "") -> None:
        self.cap = cap
        #: prefixed to every location column, e.g. "cell 3 output 1" in a notebook
        self.where = where
        self._kept: list[Finding] = []
        self._per_rule: dict[str, int] = {}
        self._overflow: dict[str, _Overflow] = {}

    def room(self, rule: str) -> int:
        """How many more findings of ``rule`` would be listed."""
        return self.cap - self._per_rule.get(rule, 0)

    def add(
        self,
        rule: str,
        verdict: Verdict,
        message: str,
        location: Location | None = None,
    ) -> None:
        if self.where and location is not None:
            column = f"{self.where}: {location.column}" if location.column else self.where
            location = dataclasses.replace(location, column=column)
        elif self.where and location is None:
            location = Location(column=self.where)
        if self.room(rule) > 0:
            self._per_rule[rule] = self._per_rule.get(rule, 0) + 1
            self._kept.append(Finding(rule, verdict, message, location))
        else:
            self.more(rule, verdict, 1)

    def more(self, rule: str, verdict: Verdict, count: int) -> None:
        """Count ``count`` further findings of ``rule`` without listing them."""
        if count <= 0:
            return
        over = self._overflow.setdefault(rule, _Overflow(verdict))
        over.count += count
        if verdict.rank > over.verdict.rank:
            over.verdict = verdict

    def extend(self, findings: Iterable[Finding]) -> None:
        for f in findings:
            self.add(f.rule, f.verdict, f.message, f.location)

    def has(self, rule: str) -> bool:
        return rule in self._per_rule

    def findings(self) -> tuple[Finding, ...]:
        summaries = [
            Finding(
                rule,
                over.verdict,
                f"{over.count:,} more finding{'s' if over.count != 1 else ''} of this rule in "
                f"the file; only the first {self.cap} are listed. Fix those and check again.",
            )
            for rule, over in self._overflow.items()
        ]
        return (*self._kept, *summaries)
