"""Findings grouped by rule for reading: a genome-wide table can give thousands of findings of
one rule, which a reviewer reads once, with their count and the first rows they point at."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from airlock.checks.findings import Verdict

#: findings shown in full in each group
FIRST = 3


@dataclasses.dataclass(frozen=True)
class FindingGroup:
    rule: str
    verdict: str  # the most severe in the group
    count: int
    first: tuple[dict[str, Any], ...]  # the first findings (Finding.to_dict()), in file order

    @property
    def more(self) -> int:
        return self.count - len(self.first)


def group_findings(findings: Iterable[dict[str, Any]], first: int = FIRST) -> list[FindingGroup]:
    """One group per rule, the blocking rules first, then by count (most first)."""
    by_rule: dict[str, list[dict[str, Any]]] = {}
    for f in findings:
        by_rule.setdefault(f["rule"], []).append(f)
    groups = [
        FindingGroup(
            rule=rule,
            verdict=Verdict.worst(Verdict(f["verdict"]) for f in items).value,
            count=len(items),
            first=tuple(items[:first]),
        )
        for rule, items in by_rule.items()
    ]
    groups.sort(key=lambda g: (-Verdict(g.verdict).rank, -g.count, g.rule))
    return groups
