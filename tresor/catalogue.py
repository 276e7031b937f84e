"""Datasets for researchers: the catalogue entries they hold a grant for, opened read-only.

The catalogue's file format is :mod:`tresor.core.catalogue`; here the grant is checked against
the user's hub groups (asked of the hub) before a store is opened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tresor.core.catalogue import DatasetEntry, load_catalogue
from tresor.core.errors import AccessDeniedError, DatasetNotFoundError
from tresor.identity import Identity, current_identity

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import xarray as xr


def user_can_open(entry: DatasetEntry, identity: Identity) -> bool:
    """True when one of the user's hub groups holds a grant for the dataset."""
    return entry.granted_to(identity.groups)


def check_user_can_open(entry: DatasetEntry, identity: Identity) -> None:
    """Raise AccessDeniedError, saying who to ask, unless the user holds a grant."""
    if user_can_open(entry, identity):
        return
    granted = ", ".join(entry.grants) or "no project yet"
    mine = ", ".join(sorted(identity.groups)) or "none"
    raise AccessDeniedError(
        f"{identity.name} has no grant for dataset {entry.id!r} ({entry.title}). It is granted "
        f"to: {granted}; your groups: {mine}. Ask {entry.contact} to grant it to your project, "
        "or ask a node admin to add you to a granted project."
    )


def get_entry(dataset_id: str, catalogue: dict[str, DatasetEntry] | None = None) -> DatasetEntry:
    catalogue = load_catalogue() if catalogue is None else catalogue
    try:
        return catalogue[dataset_id]
    except KeyError:
        known = ", ".join(sorted(catalogue)) or "none"
        raise DatasetNotFoundError(
            f"no dataset {dataset_id!r} in this node's catalogue (datasets here: {known}); "
            "tresor.datasets() lists the ones you may open"
        ) from None


def open_dataset(dataset_id: str) -> xr.Dataset:
    """Open a dataset by catalogue id after checking the user's grant with the hub."""
    from tresor.io import open_store

    entry = get_entry(dataset_id)
    check_user_can_open(entry, current_identity())
    ds = open_store(entry.store)
    ds.attrs.update(
        tresor_dataset_id=entry.id, tresor_title=entry.title, genome_build=entry.genome_build
    )
    return ds


def datasets_table(*, identity: Identity | None = None) -> pd.DataFrame:
    """Datasets the user may open, one row each."""
    import pandas as pd

    identity = identity or current_identity()
    rows = [
        {
            "id": e.id,
            "title": e.title,
            "genome_build": e.genome_build,
            "samples": e.n_samples,
            "variants": e.n_variants,
            "phenotypes": ", ".join(sorted(e.phenotypes)),
        }
        for e in load_catalogue().values()
        if user_can_open(e, identity)
    ]
    columns = ["id", "title", "genome_build", "samples", "variants", "phenotypes"]
    return pd.DataFrame(rows, columns=columns)
