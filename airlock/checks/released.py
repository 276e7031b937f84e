"""What was released before, as the checks see it: table records and the ledger view.

A :class:`TableRecord` describes a table with counts of people (its kind, row keys, counts);
the checks put one in the file's report for each such table (airlock.checks.differencing), and
the service keeps them in its release ledger when the file is released. A :class:`LedgerView`
is the part of that ledger the service finds relevant to a request (:attr:`CheckContext.ledger`),
immutable like the rest of the context.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import types
from collections.abc import Mapping
from typing import Any


@dataclasses.dataclass(frozen=True)
class TableRecord:
    """What the ledger keeps of a table: its kind, key and count columns, and rows."""

    kind: str
    key_columns: tuple[str, ...]
    count_columns: tuple[str, ...]
    #: row key -> counts (None where a cell is not a number), every ``every``-th row
    rows: Mapping[str, tuple[float | None, ...]]
    total_rows: int
    every: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "key_columns": list(self.key_columns),
            "count_columns": list(self.count_columns),
            "rows": [[k, list(v)] for k, v in self.rows.items()],
            "total_rows": self.total_rows,
            "every": self.every,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TableRecord:
        return cls(
            kind=d["kind"],
            key_columns=tuple(d["key_columns"]),
            count_columns=tuple(d["count_columns"]),
            rows=types.MappingProxyType({k: tuple(v) for k, v in d["rows"]}),
            total_rows=d["total_rows"],
            every=d.get("every", 1),
        )


@dataclasses.dataclass(frozen=True)
class LedgerEntry:
    """An earlier table, as the caller lets the checks see it."""

    #: how a finding names it to the requester, e.g. "counts.csv released in request ab12
    #: on 2026-11-02"
    label: str
    record: TableRecord
    #: the request and file it came from: a file is never compared with itself
    request_id: str = ""
    file_name: str = ""
    released_at: dt.datetime | None = None


@dataclasses.dataclass(frozen=True)
class LedgerView:
    """The earlier tables the caller finds relevant to the request being checked."""

    entries: tuple[LedgerEntry, ...] = ()

    @functools.cached_property
    def by_kind(self) -> Mapping[str, tuple[LedgerEntry, ...]]:
        kinds: dict[str, list[LedgerEntry]] = {}
        for entry in self.entries:
            kinds.setdefault(entry.record.kind, []).append(entry)
        return types.MappingProxyType({k: tuple(v) for k, v in kinds.items()})

    def without(self, request_id: str, file_name: str) -> LedgerView:
        """This view less the tables of one file of one request (the file being checked)."""
        kept = tuple(
            e for e in self.entries if (e.request_id, e.file_name) != (request_id, file_name)
        )
        return self if len(kept) == len(self.entries) else LedgerView(kept)
