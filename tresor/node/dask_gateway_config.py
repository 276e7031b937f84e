"""The dask-gateway-server config file: ``dask-gateway-server -f <this file>``.

Like ``jupyterhub_config.py`` it only sets traits, from the site config (``TRESOR_SITE_CONFIG``).
"""

from tresor.core.site import load_site_config
from tresor.node.gateway import configure_gateway

c = get_config()  # noqa: F821 - provided by the config loader
configure_gateway(c, load_site_config())
