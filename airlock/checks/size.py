"""Size limits: what a reviewer can actually look at [OpenSAFELY: 16 MB per file, 5,000 rows
per table], except for recognised genome-wide summary statistics, which are streamed and
checked row by row at any size up to ``max_summary_statistics_bytes``: size alone never blocks
them, and never blocks anything else either (a large file needs a reviewer's close look)."""

from __future__ import annotations

from airlock.checks.findings import FindingSink, Verdict
from tresor.core.airlock_config import AirlockConfig

RULE = "file-size"
RULE_ROWS = "table-rows"


def summary_statistics(sink: FindingSink) -> bool:
    """Whether every part of the file was recognised as genome-wide summary statistics."""
    return bool(sink.parts) and all(p.kind and p.summary_statistics for p in sink.parts)


def check_size(size: int, config: AirlockConfig, sink: FindingSink) -> None:
    """After the file's content was checked (so its kind is known)."""
    if summary_statistics(sink):
        limit = config.max_summary_statistics_bytes
        what = "recognised summary statistics are accepted up to"
    else:
        limit = config.max_file_bytes
        what = "files that are not recognised summary statistics are checked by eye up to"
    if limit and size > limit:
        sink.add(
            RULE,
            Verdict.REVIEW,
            f"The file is {_mb(size)}; {what} {_mb(limit)}, so a reviewer must look at it "
            "closely. Release a smaller summary (fewer rows or columns, or split it by topic) "
            "if you can.",
        )


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:,.1f} MB"


def check_rows(rows: int, config: AirlockConfig, sink: FindingSink) -> None:
    if config.max_table_rows and rows > config.max_table_rows:
        sink.add(
            RULE_ROWS,
            Verdict.REVIEW,
            f"The table has {rows:,} rows, more than the {config.max_table_rows:,} a reviewer "
            "can check by eye; a reviewer must look at it closely. Release only the rows you "
            "need.",
        )
