"""The nodes' per-variant tables read side by side, a window of positions at a time.

Each node's table is sorted by position within a contig and has one contig per row group (as
the analyses write it). For each contig, every node's row groups are read in turn and the rows
of all nodes below a common frontier are handed on together: every row at a position is in the
same window, whichever node it comes from, and at most about two row groups per node are in
memory, whatever the number of variants.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

#: the column that says which node (its index in the merge's node order) a row comes from
NODE = "NODE"


class NodeTable:
    """One node's Parquet table, its row groups indexed by contig."""

    def __init__(self, path: Path, columns: Sequence[str] | None = None) -> None:
        self.path = Path(path)
        self.file = pq.ParquetFile(self.path)
        self.columns = list(columns) if columns is not None else None
        self.groups: dict[str, list[int]] = {}
        chrom = self.file.schema_arrow.get_field_index("CHROM")
        for i in range(self.file.metadata.num_row_groups):
            group = self.file.metadata.row_group(i)
            if group.num_rows == 0:
                continue
            stats = group.column(chrom).statistics
            if stats is not None and stats.has_min_max and stats.min == stats.max:
                contig = stats.min
            else:
                values = self.file.read_row_group(i, columns=["CHROM"]).column(0).unique()
                if len(values) != 1:
                    raise ValueError(f"{self.path}: row group {i} holds several contigs")
                contig = values[0].as_py()
            self.groups.setdefault(str(contig), []).append(i)

    @property
    def num_rows(self) -> int:
        return self.file.metadata.num_rows

    def row_groups(self, contig: str) -> Iterator[pd.DataFrame]:
        for i in self.groups.get(contig, ()):
            yield self.file.read_row_group(i, columns=self.columns).to_pandas()


def contig_order(orders: Sequence[Sequence[str]]) -> list[str]:
    """One order of all contigs: each node's order (its store's), first node first."""
    out: list[str] = []
    for order in orders:
        out += [c for c in order if c not in out]
    return out


def windows(tables: Sequence[NodeTable], contig: str) -> Iterator[pd.DataFrame]:
    """Rows of every node on ``contig`` in windows of positions, with a NODE column.

    A window holds every node's rows with positions in [previous frontier, frontier), where the
    frontier is the smallest last position among the nodes' loaded row groups; the node(s) at
    the frontier then load their next row group.
    """
    readers = [t.row_groups(contig) for t in tables]
    buffers: list[pd.DataFrame | None] = [None] * len(tables)
    done = [False] * len(tables)

    def fill(k: int) -> None:
        """Load node k's next non-empty row group onto its buffer, or mark it done."""
        while True:
            frame = next(readers[k], None)
            if frame is None:
                done[k] = True
                return
            if len(frame):
                frame[NODE] = np.int16(k)
                buffers[k] = frame if buffers[k] is None else pd.concat([buffers[k], frame])
                return

    for k in range(len(tables)):
        fill(k)
    while True:
        live = [k for k in range(len(tables)) if not done[k]]
        frontier = min(int(buffers[k]["POS"].iloc[-1]) for k in live) if live else math.inf
        parts = []
        for k, frame in enumerate(buffers):
            if frame is None or not len(frame):
                continue
            below = frame["POS"].to_numpy() < frontier
            if below.all():
                parts.append(frame)
                buffers[k] = None
            elif below.any():
                parts.append(frame[below])
                buffers[k] = frame[~below]
        if parts:
            yield pd.concat(parts, ignore_index=True)
        if not live:
            return
        for k in live:
            frame = buffers[k]
            if frame is None or not len(frame) or int(frame["POS"].iloc[-1]) == frontier:
                fill(k)
