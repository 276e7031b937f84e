"""The version of tresor, recorded in bundle manifests and shown by ``tresor --version``."""

__version__ = "0.1.0"
