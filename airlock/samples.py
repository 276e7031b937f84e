"""The sample IDs of the node's datasets, for the checks' context: the airlock's one door to
the catalogue and the genotype stores.

The disclosure checks block values that name a participant, so they need every dataset's
sample IDs; being pure, they never open a dataset (airlock.checks). Whoever runs them asks a
:class:`SampleIdProvider` instead, and puts the answer in the :class:`CheckContext`. The node's
provider reads the catalogue (tresor.core.catalogue) and, from each dataset's VCF Zarr store
(bio2zarr; Zarr format 2 or 3), its ``sample_id`` array, read-only.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Collection
from pathlib import Path
from typing import Protocol

from airlock.checks.context import DatasetSamples
from tresor.core.catalogue import catalogue_dir, load_catalogue
from tresor.core.errors import TresorError

log = logging.getLogger(__name__)

_NOT = "values are NOT matched against sample IDs of this node's datasets"


@dataclasses.dataclass(frozen=True)
class NodeSamples:
    """The node's datasets as the checks see them, and a note for people."""

    datasets: tuple[DatasetSamples, ...]
    #: where the IDs came from, or why there are none
    note: str


_NO_CATALOGUE = NodeSamples((), "no catalogue")


class SampleIdProvider(Protocol):
    """What the service asks before checking a file: the node's datasets now. Never raises:
    when there are none to be had, the note says why."""

    def __call__(self) -> NodeSamples: ...


def read_sample_ids(store: Path) -> frozenset[str]:
    """The ``sample_id`` array of a VCF Zarr store, opened read-only."""
    import zarr

    if not Path(store).is_dir():
        raise FileNotFoundError(f"{store} is not a directory (a VCF Zarr store)")
    group = zarr.open_group(zarr.storage.LocalStore(store, read_only=True), mode="r")
    return frozenset(str(s) for s in group["sample_id"][:].tolist())


def catalogue_samples(
    catalogue: Path | None = None, groups: Collection[str] | None = None
) -> NodeSamples:
    """The sample IDs and grants of every dataset in the node's catalogue (``catalogue``
    overrides where the catalogue is); with ``groups``, of the datasets granted to one of
    them only (a user's projects: the others' stores are not even opened)."""
    try:
        where = Path(catalogue) if catalogue else catalogue_dir()
        entries = load_catalogue(where)
    except TresorError as e:
        return NodeSamples((), f"the node's catalogue cannot be read ({e}); " + _NOT)
    if groups is not None:
        entries = {k: e for k, e in entries.items() if e.granted_to(groups)}
        if not entries:
            return NodeSamples((), "none of your projects is granted a dataset; " + _NOT)
    if not entries:
        return NodeSamples((), f"no datasets in a catalogue at {where}; " + _NOT)
    datasets: list[DatasetSamples] = []
    failed = []
    for entry in entries.values():
        try:
            ids = read_sample_ids(entry.store)
        except (OSError, KeyError, ValueError) as e:  # zarr's errors are ValueErrors too
            failed.append(f"{entry.id} ({e})")
            continue
        datasets.append(DatasetSamples(entry.id, ids, frozenset(entry.grants)))
    if not datasets:
        return NodeSamples((), f"no dataset store could be read ({'; '.join(failed)}); " + _NOT)
    distinct = frozenset().union(*(d.sample_ids for d in datasets))
    note = (
        f"values are matched against {len(distinct):,} sample IDs of datasets "
        f"{', '.join(d.id for d in datasets)}"
    )
    if failed:
        note += f"; could not read: {'; '.join(failed)}"
    return NodeSamples(tuple(datasets), note)


class CatalogueSamples:
    """The node's provider: :func:`catalogue_samples`, read again only when a catalogue entry
    changes (a new dataset, new grants)."""

    def __init__(self, catalogue_dir: Path | None) -> None:
        self.catalogue_dir = catalogue_dir
        self._key: tuple | None = None
        self._found = _NO_CATALOGUE

    def _fingerprint(self) -> tuple:
        if self.catalogue_dir is None or not self.catalogue_dir.is_dir():
            return ()
        return tuple(
            (p.name, p.stat().st_mtime_ns) for p in sorted(self.catalogue_dir.glob("*.toml"))
        )

    def __call__(self) -> NodeSamples:
        key = self._fingerprint()
        if key != self._key:
            self._found = (
                catalogue_samples(self.catalogue_dir) if key else NodeSamples((), "no catalogue")
            )
            log.info("disclosure checks: %s", self._found.note)
            self._key = key
        return self._found
