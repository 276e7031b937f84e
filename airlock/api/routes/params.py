"""Path parameters shared by the routers, validated before anything runs."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

RequestId = Annotated[
    str, Path(pattern=r"^[0-9a-f]{16}$", description="request id (16 hex digits)")
]
FileId = Annotated[int, Path(ge=1, le=2**31 - 1, description="file id within the request")]
