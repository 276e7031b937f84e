"""Errors a researcher or admin can act on. Each message says what is wrong and what to do."""


class TresorError(Exception):
    """Base class: the CLI prints these without a traceback."""


class ConfigError(TresorError):
    """The site configuration is missing, malformed or asks for something not available."""


class NotVCFZarrError(TresorError, ValueError):
    """A path is not a VCF Zarr store written by bio2zarr (or compatible)."""


class DatasetNotFoundError(TresorError, KeyError):
    """No dataset with that id in the node's catalogue."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class AccessDeniedError(TresorError, PermissionError):
    """The user has no grant for a dataset."""
