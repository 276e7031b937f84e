"""JupyterHub configuration of a tresor node.

The site config (TOML; path in TRESOR_SITE_CONFIG, else config/site.local.toml) chooses the
profile: ``local`` (embedded default) or ``docker`` (production). All logic is in tresor.node.
"""

from tresor.core.site import load_site_config
from tresor.node.profiles import configure

configure(c, load_site_config())
