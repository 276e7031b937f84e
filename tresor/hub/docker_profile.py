"""The production profile: DockerSpawner on an internal network, PostgreSQL, OIDC login.

Not built yet (see the production-node issue); the switch exists so a site config can name it.
"""

from __future__ import annotations

from tresor.errors import ConfigError
from tresor.site import SiteConfig


def configure_docker(c, site: SiteConfig) -> None:
    raise ConfigError(
        f"site config {site.source}: profile 'docker' (production: DockerSpawner, PostgreSQL, "
        'OIDC) is not available in this version of tresor yet; use profile = "local" for the '
        "embedded node"
    )
