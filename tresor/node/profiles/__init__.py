"""Hub profiles: the site config's ``profile`` picks one module, each with the same two steps.

- ``prepare(site)``: before the hub starts (``tresor node prepare``, ``tresor node start``, the
  hub image's command), create what the hub reads: secrets, local accounts, certificates.
- ``configure(c, site)``: from ``jupyterhub_config.py``, set traits; it reads files, makes none.

:mod:`~tresor.node.profiles.local` is the embedded default, :mod:`~tresor.node.profiles.docker`
production; both pass their differences to :mod:`~tresor.node.profiles.common`.
"""

from __future__ import annotations

from tresor.core.site import SiteConfig
from tresor.node.profiles import docker, local

PROFILES = {"local": local, "docker": docker}


def prepare(site: SiteConfig) -> dict[str, str]:
    """Create what the site's profile reads. Returns new local accounts' passwords (show once)."""
    return PROFILES[site.profile].prepare(site)


def configure(c, site: SiteConfig) -> None:
    """Apply the site's profile to the JupyterHub config object ``c``."""
    PROFILES[site.profile].configure(c, site)
