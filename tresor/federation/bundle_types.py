"""A node's released bundle once its signature and binding have been verified.

The merge takes these and trusts that verification happened (against the federation registry,
by the coordinator or ``tresor federation merge``); it reads only the files the manifest lists.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any


@dataclasses.dataclass(frozen=True)
class VerifiedBundle:
    """One node's bundle: ``directory`` holds manifest.json, manifest.sig and files/."""

    node: str
    directory: Path
    manifest: dict[str, Any]
    #: SHA-256 of the exact manifest.json bytes that the node's release key signed
    manifest_sha256: str

    @property
    def files_dir(self) -> Path:
        return self.directory / "files"
