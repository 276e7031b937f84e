"""Sending file bytes to a browser safely: always as an attachment, never interpreted."""

from __future__ import annotations

from pathlib import PurePosixPath
from urllib.parse import quote

from fastapi.responses import Response


def attachment(data: bytes, name: str) -> Response:
    filename = PurePosixPath(name).name
    return Response(
        content=data,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "no-store",
        },
    )
