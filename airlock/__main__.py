"""Run the airlock as a JupyterHub-managed service: ``python -m airlock [serve] --port 8090``.

``serve`` (the default) upgrades the database (Alembic), finishes any release a crash
interrupted, records the configuration in the audit log if it changed, checkpoints the audit
log's head (airlock.anchors), and serves the API and
web UI with uvicorn where the site config says (``[airlock] ip`` and ``port``). ``migrate``
only upgrades the database; ``diagram`` prints the state diagram. The hub starts it with
``JUPYTERHUB_API_TOKEN``, ``JUPYTERHUB_CLIENT_ID``, ``JUPYTERHUB_SERVICE_PREFIX`` and the site
config in the environment (tresor.node.profiles); in production the airlock container's
environment file (ansible/roles/airlock) holds the same.
"""

from __future__ import annotations

import argparse
import logging
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tresor.core.site import SiteConfig

log = logging.getLogger("airlock")


def _settings(site):
    from airlock.config import Settings

    return Settings.from_site(site)


def listen_options(site: SiteConfig, environ: dict[str, str], port: int | None) -> dict:
    """Where and how uvicorn listens: the site config's address, TLS from the environment.

    The address is ``site.airlock_listen_ip``: loopback on the local node, the airlock
    container's address on the internal network in production, where notebook servers and the
    hub's proxy reach it. With JupyterHub's internal SSL it serves TLS with the certificates in
    ``JUPYTERHUB_SSL_*`` and requires client certificates from the CAs in
    ``JUPYTERHUB_SSL_CLIENT_CA`` (the hub, the proxy, notebook servers).
    """
    import ssl

    options: dict = {"host": site.airlock_listen_ip, "port": port or site.airlock.port}
    keyfile, certfile = (
        environ.get("JUPYTERHUB_SSL_KEYFILE"),
        environ.get("JUPYTERHUB_SSL_CERTFILE"),
    )
    if keyfile and certfile:
        options.update(ssl_keyfile=keyfile, ssl_certfile=certfile)
        if client_ca := environ.get("JUPYTERHUB_SSL_CLIENT_CA"):
            options.update(ssl_ca_certs=client_ca, ssl_cert_reqs=ssl.CERT_REQUIRED)
    return options


def serve(port: int | None) -> None:
    import uvicorn
    from jupyterhub.services.auth import HubOAuth

    from airlock.api.deps import HubIdentity
    from airlock.app import build_airlock, create_app
    from airlock.db.schema import upgrade
    from airlock.reviewers import HubGroupsApi
    from airlock.web.sessions import Sessions
    from tresor.core.secrets import ensure_private_dir, ensure_secret
    from tresor.core.site import load_site_config

    if not os.environ.get("JUPYTERHUB_API_TOKEN"):
        raise SystemExit(
            "the airlock runs as a JupyterHub service: start the node (tresor node start), "
            "which starts it with JUPYTERHUB_API_TOKEN and the OAuth settings"
        )
    site = load_site_config()
    settings = _settings(site)
    ensure_private_dir(settings.cookie_secret_path.parent)
    upgrade(settings.database_url)
    airlock = build_airlock(settings)
    for line in airlock.recover():
        log.warning("recovery: %s", line)
    airlock.record_startup_config()
    log.info("audit log checkpointed at entry %d", airlock.anchor_audit_head())
    auth = HubOAuth(
        api_token=os.environ["JUPYTERHUB_API_TOKEN"],
        base_url=settings.base_url,
        cache_max_age=60,
    )
    public = os.environ.get("JUPYTERHUB_PUBLIC_URL", "")
    sessions = Sessions(
        ensure_secret(settings.cookie_secret_path),
        path=settings.base_url,
        secure=public.startswith("https:"),
    )
    app = create_app(
        airlock,
        identity=HubIdentity(auth),
        sessions=sessions,
        hub_auth=auth,
        hub_groups=HubGroupsApi.like(auth),
    )
    uvicorn.run(
        app, log_level="info", proxy_headers=False, **listen_options(site, dict(os.environ), port)
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m airlock", description=__doc__.split("\n")[0])
    parser.add_argument(
        "command", nargs="?", default="serve", choices=["serve", "migrate", "diagram"]
    )
    parser.add_argument("--port", type=int, help="default: the site config's [airlock] port")
    parser.add_argument("--write", metavar="MARKDOWN", help="diagram: update this file's block")
    args = parser.parse_args(argv)
    if args.command == "diagram":
        from pathlib import Path

        from airlock import diagram

        if args.write:
            diagram.write_into(Path(args.write))
        else:
            print(diagram.mermaid())
        return
    logging.basicConfig(level=logging.INFO, format="[airlock %(levelname)s] %(message)s")
    if args.command == "migrate":
        from airlock.db.schema import upgrade
        from tresor.core.site import load_site_config

        upgrade(_settings(load_site_config()).database_url)
        return
    serve(args.port)


if __name__ == "__main__":
    main()
