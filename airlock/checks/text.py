"""Free text (plain text, Markdown, logs, model summaries): identifiers, sample IDs and the
residual degrees of freedom printed by statsmodels and R. Locations are line numbers."""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO

from airlock.checks.context import CheckContext
from airlock.checks.findings import FindingSink, Location, Verdict
from airlock.checks.identifiers import find_identifiers
from airlock.checks.individuals import find_sample_ids
from airlock.checks.reading import iter_text_blocks
from airlock.checks.tables import RULE_DOF, dof_in_text, dof_message


def scan_text(
    raw: bytes,
    text: str,
    first_line: int,
    context: CheckContext,
    sink: FindingSink,
    *,
    column: str | None = None,
) -> None:
    """Apply the free-text rules to one block; ``raw`` is ``text`` before decoding."""
    for hit in find_identifiers(raw):
        line = first_line + raw.count(b"\n", 0, hit.start)
        sink.add(hit.rule, hit.verdict, hit.message(), Location(line, column, hit.masked))
    find_sample_ids(text, context.sample_ids, sink, first_line, column)
    for offset, dof in dof_in_text(raw):
        if dof < context.config.min_residual_dof:
            line = first_line + raw.count(b"\n", 0, offset)
            sink.add(
                RULE_DOF,
                Verdict.BLOCK,
                dof_message(dof, context.config.min_residual_dof),
                Location(line, column, str(dof)),
            )


def check_text(
    f: BinaryIO,
    *,
    encoding: str,
    context: CheckContext,
    sink: FindingSink,
    on_bytes: Callable[[int], None] | None = None,
) -> None:
    for block in iter_text_blocks(
        f,
        encoding=encoding,
        max_line_bytes=context.config.max_line_bytes,
        quoted=False,
        on_bytes=on_bytes,
    ):
        scan_text(block.raw, block.text, block.first_line, context, sink)
