"""Sample IDs of the node's datasets, for the rule that blocks values naming people.

The airlock service and ``tresor airlock check`` gather them once from the catalogue and pass
them in ``CheckConfig.sample_ids``; the rules never open a dataset themselves.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from tresor.core.errors import TresorError


@dataclasses.dataclass(frozen=True)
class SampleIds:
    ids: frozenset[str]
    #: what a user should know: where the IDs came from, or why there are none
    note: str


def catalogue_sample_ids(catalogue: Path | None = None) -> SampleIds:
    """The sample IDs of every dataset in the node's catalogue (``catalogue`` overrides where
    the catalogue is). Never raises: when there is no catalogue, the note says so."""
    from tresor.core.catalogue import catalogue_dir, load_catalogue
    from tresor.io import open_store

    try:
        where = Path(catalogue) if catalogue else catalogue_dir()
        entries = load_catalogue(where)
    except TresorError as e:
        return SampleIds(frozenset(), f"the node's catalogue cannot be read ({e}); " + _NOT)
    if not entries:
        return SampleIds(frozenset(), f"no datasets in a catalogue at {where}; " + _NOT)
    ids: set[str] = set()
    used, failed = [], []
    for entry in entries.values():
        try:
            ds = open_store(entry.store)
            ids.update(str(s) for s in ds["sample_id"].values.tolist())
            used.append(entry.id)
        except (TresorError, OSError, KeyError, ValueError) as e:
            failed.append(f"{entry.id} ({e})")
    note = f"values are matched against {len(ids):,} sample IDs of datasets {', '.join(used)}"
    if failed:
        note += f"; could not read: {'; '.join(failed)}"
    if not used:
        return SampleIds(
            frozenset(), f"no dataset store could be read ({'; '.join(failed)}); " + _NOT
        )
    return SampleIds(frozenset(ids), note)


_NOT = "values are NOT matched against sample IDs of this node's datasets"
