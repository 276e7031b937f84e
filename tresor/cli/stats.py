"""Genomics commands over VCF Zarr stores: freq, hardy, gwas, pca (plink2 output formats)."""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    """Add this module's commands to the ``tresor`` group."""
