"""Size limits: a file a reviewer can actually look at [OpenSAFELY: 16 MB per file]. The row
limit of tables is in :func:`airlock.checks.tables.check_rows`."""

from __future__ import annotations

from airlock.checks import Verdict
from airlock.checks.config import CheckConfig
from airlock.checks.findings import FindingSink

RULE = "file-size"


def check_size(size: int, config: CheckConfig, sink: FindingSink) -> None:
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
