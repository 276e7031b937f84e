"""The regression inputs of the GWAS analyses: phenotype, covariates and who is analysed."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import numpy as np
import pandas as pd
import xarray as xr
from pydantic import Field, model_validator

from tresor.federation.analyses.base import AnalysisError, Parameters, numeric_columns

NAME = r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$"


class GwasParameters(Parameters):
    """A quantitative ``phenotype`` and ``covariates`` (columns of the phenotype table)."""

    phenotype: str = Field(pattern=NAME)
    covariates: tuple[Annotated[str, Field(pattern=NAME)], ...] = ()

    @model_validator(mode="after")
    def _distinct(self) -> GwasParameters:
        if len({self.phenotype, *self.covariates}) != 1 + len(self.covariates):
            raise ValueError("the phenotype and covariates must be distinct columns")
        if "INTERCEPT" in self.covariates:
            raise ValueError("INTERCEPT is the intercept's name; rename that covariate")
        return self

    @property
    def predictors(self) -> tuple[str, ...]:
        return ("INTERCEPT", *self.covariates)


@dataclasses.dataclass(frozen=True)
class Design:
    """y and the covariates (intercept first) over the dataset's samples; ``include`` marks the
    samples with the phenotype and every covariate."""

    y: np.ndarray
    covariates: np.ndarray  # (samples, k) with the intercept as column 0
    include: np.ndarray

    @property
    def n(self) -> int:
        return int(self.include.sum())

    def phenotype(self) -> xr.DataArray:
        return xr.DataArray(np.where(self.include, self.y, np.nan), dims=("samples",))

    def covariate_array(self, names: tuple[str, ...]) -> xr.DataArray | None:
        if not names:
            return None
        return xr.DataArray(
            self.covariates[:, 1:],
            dims=("samples", "covariates"),
            coords={"covariates": list(names)},
        )


def build_design(
    ds: xr.Dataset, phenotypes: pd.DataFrame | None, params: GwasParameters, min_samples: int
) -> Design:
    """The design, or an AnalysisError that says what is wrong with the node's phenotypes."""
    from tresor.stats.phenotypes import is_binary

    values = numeric_columns(ds, phenotypes, [params.phenotype, *params.covariates])
    y = values[:, 0]
    if is_binary(pd.Series(y)):
        raise AnalysisError(
            f"phenotype {params.phenotype!r} is binary (1/2 coded); the federated linear GWAS "
            "takes a quantitative phenotype"
        )
    covariates = np.column_stack([np.ones(len(y)), values[:, 1:]])
    include = ~np.isnan(values).any(axis=1)
    n = int(include.sum())
    if n < max(min_samples, covariates.shape[1] + 2):
        raise AnalysisError(
            f"only {n} samples have {params.phenotype!r} and every covariate; the node's minimum "
            f"is {min_samples}"
        )
    for j, name in enumerate(params.covariates, start=1):
        if np.ptp(covariates[include, j]) == 0:
            raise AnalysisError(f"covariate {name!r} is constant over the analysed samples")
    if np.ptp(y[include]) == 0:
        raise AnalysisError(f"phenotype {params.phenotype!r} is constant over the analysed samples")
    return Design(np.where(include, y, 0.0), np.where(include[:, None], covariates, 0.0), include)
