"""Cells a spreadsheet would run as formulas (CSV injection): text starting with =, +, - or @
(and tab or carriage return, which some spreadsheets strip first).

A reviewer must see them; the finding shows the value escaped with a leading apostrophe, as
spreadsheets do, so opening the report cannot run it. Numbers such as -0.5 or +3 are not text
and never match.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from airlock.checks.cells import Chunk, TableContext, report_cells
from airlock.checks.content import context_matcher, may_hold_formulas, prefiltered
from airlock.checks.findings import Location, Verdict

RULE = "formula"
_TRIGGERS = pa.array(["=", "+", "-", "@", "\t", "\r"])


def escaped(value: str) -> str:
    """How a reviewer sees a formula-like value: an apostrophe first, control characters
    spelled out, and at most 200 characters."""
    text = value.replace("\t", "\\t").replace("\r", "\\r").replace("\n", "\\n")
    return "'" + (text if len(text) <= 200 else text[:200] + "...")


#: signs only (METAL's and GWAMA's effect directions such as '+-?+'): no formula can come of it
_SIGNS = re.compile(r"^[-+?0.\s]+$")


#: JSON-LD's keywords (JSON-LD 1.1, section 1.7), keys and values of every JSON-LD document such
#: as a HealthDCAT-AP description; a spreadsheet reads "@type" as a name, which runs nothing
JSON_LD_KEYWORDS = frozenset(
    [
        "@base",
        "@container",
        "@context",
        "@direction",
        "@graph",
        "@id",
        "@import",
        "@included",
        "@index",
        "@json",
        "@language",
        "@list",
        "@nest",
        "@none",
        "@prefix",
        "@propagate",
        "@protected",
        "@reverse",
        "@set",
        "@type",
        "@value",
        "@version",
        "@vocab",
    ]
)


def looks_like_formula(value: object) -> bool:
    if not isinstance(value, str) or len(value) < 2 or value[0] not in "=+-@\t\r":
        return False
    if _SIGNS.match(value) or value in JSON_LD_KEYWORDS:
        return False
    try:
        float(value)
    except ValueError:
        return True
    return False


def _message(what: str) -> str:
    return (
        f"{what} starts with a character that makes a spreadsheet run it as a formula "
        "(=, +, -, @). It is shown escaped; if it is meant as text, put an apostrophe in front "
        "or rename it, otherwise remove it."
    )


class FormulaRule:
    def __init__(self, ctx: TableContext) -> None:
        self.ctx = ctx
        for name in ctx.names:
            if looks_like_formula(name):
                ctx.sink.add(
                    RULE,
                    Verdict.REVIEW,
                    _message(f"Column name {escaped(name)}"),
                    Location(row=0, column=escaped(name)),
                )

    def feed(self, chunk: Chunk) -> None:
        if chunk.raw is not None:
            matcher = context_matcher(self.ctx.context)
            if not may_hold_formulas(chunk.raw, prefiltered(chunk.raw, matcher, chunk.cache)):
                return
        for col in range(chunk.width):
            texts = chunk.texts(col)
            if texts is None:
                continue
            first = pc.utf8_slice_codeunits(texts, 0, 1)
            starts = pc.is_in(first, value_set=_TRIGGERS)
            candidates = np.flatnonzero(
                np.asarray(pc.fill_null(starts, False).to_numpy(zero_copy_only=False), dtype=bool)
            )
            if candidates.size == 0:
                continue
            values = texts.take(pa.array(candidates)).to_pylist()
            mask = np.zeros(len(texts), dtype=bool)
            mask[candidates] = [looks_like_formula(v) for v in values]
            report_cells(
                self.ctx.sink,
                RULE,
                Verdict.REVIEW,
                mask,
                chunk,
                self.ctx.names[col],
                lambda i, s=texts: escaped(str(s[i].as_py())),
                lambda i: _message("This cell"),
            )

    def finish(self, rows: int) -> None:
        pass


def table_rules(ctx: TableContext) -> Iterator[object]:
    yield FormulaRule(ctx)
