"""Helpers for the airlock check tests: write a file, check it, read findings back."""

from __future__ import annotations

from pathlib import Path

from airlock.checks import CheckContext, FileReport, Verdict, check_file
from tresor.core.airlock_config import AirlockConfig


def write(directory: Path, name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
    path = directory / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def check(path: Path, sample_ids=(), **thresholds) -> FileReport:
    context = CheckContext.with_sample_ids(sample_ids, AirlockConfig(**thresholds))
    return check_file(path, context)


def rules(report: FileReport, verdict: Verdict | None = None) -> set[str]:
    return {f.rule for f in report.findings if verdict is None or f.verdict is verdict}


def cells(report: FileReport, rule: str) -> set[tuple[int | None, str | None]]:
    """(row, column) of every finding of ``rule``."""
    return {
        (f.location.row, f.location.column)
        for f in report.findings
        if f.rule == rule and f.location is not None
    }


def finding(report: FileReport, rule: str):
    return next(f for f in report.findings if f.rule == rule)
