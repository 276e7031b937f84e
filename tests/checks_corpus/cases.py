"""What the corpus files are and what the checks must say about them."""

from __future__ import annotations

import dataclasses
import enum

from airlock.checks import CheckContext, DatasetSamples, Verdict
from tresor.core.airlock_config import AirlockConfig

COHORTS = ("dk", "se", "uk")
PEOPLE = 300  # per cohort, as in the demo
PROJECT = "demo-project"


class Expect(enum.Enum):
    BLOCK = "block"
    FLAG = "review or block"  # disclosive, where a human must judge
    PASS = "pass"
    REVIEW = "review"  # safe, but only a human can judge it

    def allows(self, verdict: Verdict) -> bool:
        if self is Expect.FLAG:
            return verdict in (Verdict.REVIEW, Verdict.BLOCK)
        return verdict.value == self.value


@dataclasses.dataclass(frozen=True)
class Case:
    name: str  # the file name in the corpus directory
    expect: Expect
    why: str  # what the file is, in a few words
    group: str  # individual | counts | false-block | safe | human
    #: why the expectation is not met yet (the part of the checks that will meet it)
    pending: str = ""


def sample_ids(cohort: str, n: int = PEOPLE) -> list[str]:
    """The demo's sample IDs: ``DK000001`` ... (tresor/demo/files.py)."""
    return [f"{cohort.upper()}{j:06d}" for j in range(1, n + 1)]


def corpus_context(config: AirlockConfig | None = None) -> CheckContext:
    """The node of the corpus: three datasets of 300 people, granted to one project."""
    datasets = tuple(
        DatasetSamples(c, frozenset(sample_ids(c)), frozenset({PROJECT})) for c in COHORTS
    )
    return CheckContext(config=config or AirlockConfig(), datasets=datasets)
