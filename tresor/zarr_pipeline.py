"""zarrs' Rust codec pipeline, kept read-only when the store is.

zarrs writes chunks through its own Rust store, built from the path of zarr's store, so
zarr's ``read_only`` flag never reaches it: with plain ``zarrs.ZarrsCodecPipeline`` an array
from a read-only ``LocalStore`` can be written (root ignores file modes). This subclass
refuses as zarr itself does. Importing this module registers it with zarr.
"""

from __future__ import annotations

import zarr.registry
from zarrs import ZarrsCodecPipeline


class ReadOnlyZarrsCodecPipeline(ZarrsCodecPipeline):
    """ZarrsCodecPipeline that raises zarr's read-only error before writing to such a store."""

    async def write(self, batch_info, value, drop_axes=()):
        if self.store.read_only:
            raise ValueError("store was opened in read-only mode")
        return await super().write(batch_info, value, drop_axes)


zarr.registry.register_pipeline(ReadOnlyZarrsCodecPipeline)

#: zarr config that selects this pipeline.
CONFIG = {"codec_pipeline.path": f"{__name__}.{ReadOnlyZarrsCodecPipeline.__qualname__}"}
