"""Phenotype and covariate files in plink2's format, aligned to a Dataset's samples.

The format (plink2 --pheno / --covar): whitespace-separated, a header line starting with
``#IID`` or ``#FID IID`` (or ``FID IID``), then one line per sample. Missing values are ``NA``,
``nan`` and ``-9`` (plink2's --input-missing-phenotype default); a binary phenotype is coded
1 = control, 2 = case, with ``0`` also missing. A column whose values are all 0, 1, 2 or
missing (and not only 0) is binary; any other numeric column is quantitative.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from tresor.core.errors import TresorError
from tresor.stats import variables

MISSING = ("NA", "na", "nan", "NaN", "-9", "-9.0")


class PhenotypeError(TresorError, ValueError):
    """A phenotype or covariate file that cannot be used, with what to fix. ``column`` is
    True when the problem is a column (absent, constant, not numeric), False for the file."""

    def __init__(self, message: str, *, column: bool = False) -> None:
        super().__init__(message)
        self.column = column


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """The table indexed by IID, every other column as text (FID dropped)."""
    path = Path(path)
    try:
        first = path.open().readline()
    except OSError as e:
        raise PhenotypeError(f"cannot read {path}: {e.strerror}") from e
    fields = first.split()
    if not fields:
        raise PhenotypeError(f"{path} is empty; it needs a header line such as '#IID ldl t2d'")
    header = [fields[0].lstrip("#"), *fields[1:]]
    if header[0] not in ("IID", "FID"):
        raise PhenotypeError(
            f"{path}: the first line must be a header starting with #IID or #FID IID "
            f"(plink2 format), not {first.strip()[:60]!r}"
        )
    if header[0] == "FID" and (len(header) < 2 or header[1] != "IID"):
        raise PhenotypeError(f"{path}: a #FID header must be followed by IID")
    table = pd.read_csv(path, sep=r"\s+", dtype=str, names=header, skiprows=1, comment=None)
    if table.empty:
        raise PhenotypeError(f"{path} has a header but no samples")
    if table["IID"].duplicated().any():
        dup = table["IID"][table["IID"].duplicated()].iloc[0]
        raise PhenotypeError(f"{path}: sample {dup} appears more than once")
    table = table.drop(columns=[c for c in ("FID", "SID", "PAT", "MAT") if c in table])
    return table.set_index("IID")


def _numeric(table: pd.DataFrame, name: str, path: Path) -> pd.Series:
    if name not in table:
        available = ", ".join(table.columns) or "none"
        raise PhenotypeError(f"{path} has no column {name!r} (columns: {available})", column=True)
    text = table[name].where(~table[name].isin(MISSING))
    values = pd.to_numeric(text, errors="coerce")
    bad = text.notna() & values.isna()
    if bad.any():
        raise PhenotypeError(
            f"{path}: column {name!r} has non-numeric values such as {text[bad].iloc[0]!r}; "
            "categorical covariates are not supported, code them as 0/1 columns",
            column=True,
        )
    return values.astype(float)


def is_binary(values: pd.Series) -> bool:
    """plink2's rule: only 0, 1, 2 and missing values, and some 1 or 2 (0 is missing)."""
    observed = set(values.dropna().unique())
    return observed <= {0.0, 1.0, 2.0} and bool(observed & {1.0, 2.0})


def _align(ds: xr.Dataset, table: pd.DataFrame, path: Path) -> pd.DataFrame:
    variables.validate(ds, variables.sample_id)
    ids = [str(s) for s in np.asarray(ds[variables.sample_id].values).tolist()]
    matched = table.index.intersection(ids)
    if len(matched) == 0:
        raise PhenotypeError(
            f"none of the {len(table)} sample IDs in {path} is a sample of this dataset "
            f"(file: {', '.join(table.index[:3])}; dataset: {', '.join(ids[:3])}); the IID "
            "column must hold the dataset's sample IDs"
        )
    return table.reindex(ids)


def load_phenotype(ds: xr.Dataset, path: str | os.PathLike, name: str) -> tuple[xr.DataArray, bool]:
    """(values over ``samples`` with NaN for missing, is_binary).

    A binary phenotype comes back as 0 (control) / 1 (case). Raises :class:`PhenotypeError`
    for a missing column, IDs that match no sample, or a constant phenotype.
    """
    path = Path(path)
    table = _align(ds, read_table(path), path)
    values = _numeric(table, name, path)
    binary = is_binary(values)
    if binary:
        values = values.where(values != 0) - 1.0
    observed = values.dropna()
    if len(observed) == 0:
        raise PhenotypeError(
            f"phenotype {name!r} in {path} is missing for every sample", column=True
        )
    if observed.nunique() < 2:
        raise PhenotypeError(
            f"phenotype {name!r} in {path} is constant ({observed.iloc[0]:g} for all "
            f"{len(observed)} samples with a value); nothing can be associated with it",
            column=True,
        )
    return xr.DataArray(values.to_numpy(), dims=("samples",), name=name), binary


def load_covariates(
    ds: xr.Dataset, path: str | os.PathLike, names: Sequence[str] | None = None
) -> xr.DataArray:
    """(samples, covariates) float with NaN for missing; all columns when ``names`` is None."""
    path = Path(path)
    table = _align(ds, read_table(path), path)
    names = list(table.columns) if names is None else list(names)
    if not names:
        raise PhenotypeError(f"{path} has no covariate columns")
    columns = []
    for name in names:
        values = _numeric(table, name, path)
        if values.dropna().nunique() < 2:
            raise PhenotypeError(
                f"covariate {name!r} in {path} is constant; leave it out", column=True
            )
        columns.append(values.to_numpy())
    return xr.DataArray(
        np.column_stack(columns),
        dims=("samples", "covariates"),
        coords={"covariates": names},
    )
