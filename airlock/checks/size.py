"""Size limits: what a reviewer can actually look at [OpenSAFELY: 16 MB per file, 5,000 rows
per table]."""

from __future__ import annotations

from airlock.checks.findings import FindingSink, Verdict
from tresor.core.airlock_config import AirlockConfig

RULE = "file-size"
RULE_ROWS = "table-rows"


def check_size(size: int, config: AirlockConfig, sink: FindingSink) -> None:
    if config.max_file_bytes and size > config.max_file_bytes:
        sink.add(
            RULE,
            Verdict.BLOCK,
            f"The file is {_mb(size)}, more than the {_mb(config.max_file_bytes)} allowed per "
            "file: no reviewer can check that much. Release a smaller summary (fewer rows or "
            "columns, or split it by topic).",
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
