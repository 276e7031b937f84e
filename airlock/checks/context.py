"""Everything a check knows besides the file: one frozen object, built by the caller.

The rules are pure functions of a file and a :class:`CheckContext`: the thresholds (the
airlock's configuration), and what the node knows about its datasets (their sample IDs, the
projects granted each, their sample counts), and the tables released before (the release
ledger). The airlock service builds it for each check from the configuration in force, its
sample-ID provider (airlock.checking, airlock.samples) and its database; ``tresor airlock
check`` builds it the same way, without a ledger; a test or a notebook passes its own.

The service gives a request's check only the datasets granted to the request's project (no
oracle: airlock.checking), so every rule that reads ``datasets``, ``sample_ids`` or
``sample_counts`` depends on those alone.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable

from airlock.checks.released import LedgerView
from tresor.core.airlock_config import AirlockConfig


@dataclasses.dataclass(frozen=True)
class DatasetSamples:
    """One dataset of the node as the checks see it."""

    id: str
    #: the dataset's sample IDs; cells, headers and words equal to one are blocked
    sample_ids: frozenset[str] = frozenset()
    #: projects (hub groups) that hold a grant to the dataset
    grants: frozenset[str] = frozenset()

    @property
    def n_samples(self) -> int:
        return len(self.sample_ids)


@dataclasses.dataclass(frozen=True)
class CheckContext:
    """The thresholds and the node's datasets (defaults: the brief's thresholds, no datasets)."""

    config: AirlockConfig = dataclasses.field(default_factory=AirlockConfig)
    datasets: tuple[DatasetSamples, ...] = ()
    #: earlier tables that new ones are compared with (differencing): the release ledger as
    #: the service finds it relevant to the request (airlock.checking); none by default
    ledger: LedgerView = dataclasses.field(default_factory=LedgerView)
    #: the node's other datasets, with the sample IDs ``datasets`` (the project's grants) do
    #: not have: matched in the same pass over the file, their findings (which name the
    #: dataset) go to the reviewers only (FindingSink keeps them apart; no rule reads them, no
    #: verdict of the requester's depends on them: no oracle)
    reviewer_datasets: tuple[DatasetSamples, ...] = ()

    @classmethod
    def with_sample_ids(
        cls, sample_ids: Iterable[str], config: AirlockConfig | None = None
    ) -> CheckContext:
        """A context whose only dataset has ``sample_ids`` (tests, notebooks)."""
        dataset = DatasetSamples("samples", frozenset(str(s) for s in sample_ids))
        return cls(config or AirlockConfig(), (dataset,))

    @functools.cached_property
    def sample_ids(self) -> frozenset[str]:
        """The sample IDs of every dataset of the node."""
        return frozenset().union(*(d.sample_ids for d in self.datasets))

    @functools.cached_property
    def owners(self) -> tuple[tuple[str, frozenset[str], bool], ...]:
        """(dataset id, its sample IDs, granted) of every dataset whose IDs are matched: what
        a sample-ID finding names."""
        return tuple((d.id, d.sample_ids, True) for d in self.datasets) + tuple(
            (d.id, d.sample_ids, False) for d in self.reviewer_datasets
        )

    @property
    def sample_counts(self) -> dict[str, int]:
        """Dataset id -> number of samples."""
        return {d.id: d.n_samples for d in self.datasets}
