"""Run the airlock as a JupyterHub-managed service: ``python -m airlock [serve] --port 8090``.

``serve`` (the default) upgrades the database (Alembic), finishes any release a crash
interrupted, records the configuration in the audit log if it changed, and serves the API and
web UI on loopback with uvicorn. ``migrate`` only upgrades the database; ``diagram`` prints the
state diagram. The hub starts it with ``JUPYTERHUB_API_TOKEN``, ``JUPYTERHUB_CLIENT_ID``,
``JUPYTERHUB_SERVICE_PREFIX`` and the site config in the environment (tresor.hub.profiles).
"""

from __future__ import annotations

import argparse
import logging
import os

log = logging.getLogger("airlock")


def _settings():
    from airlock.config import Settings
    from tresor.site import load_site_config

    return Settings.from_site(load_site_config())


def listen_options(environ: dict[str, str], port: int | None) -> dict:
    """Where and how uvicorn listens, from the hub's service environment.

    The local node binds loopback; a production container binds the host of
    ``JUPYTERHUB_SERVICE_URL`` and, with JupyterHub's internal SSL, serves TLS with the
    certificates in ``JUPYTERHUB_SSL_*``, requiring client certificates from the hub's CA.
    """
    import ssl
    from urllib.parse import urlsplit

    url = urlsplit(environ.get("JUPYTERHUB_SERVICE_URL") or "http://127.0.0.1:8090")
    options: dict = {"host": url.hostname or "127.0.0.1", "port": port or url.port or 8090}
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
    from airlock.web.sessions import Sessions
    from tresor.hub.secrets import ensure_private_dir, ensure_secret

    if not os.environ.get("JUPYTERHUB_API_TOKEN"):
        raise SystemExit(
            "the airlock runs as a JupyterHub service: start the node (tresor node start), "
            "which starts it with JUPYTERHUB_API_TOKEN and the OAuth settings"
        )
    settings = _settings()
    ensure_private_dir(settings.cookie_secret_path.parent)
    upgrade(settings.database_url)
    airlock = build_airlock(settings)
    for line in airlock.recover():
        log.warning("recovery: %s", line)
    airlock.record_startup_config()
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
    app = create_app(airlock, identity=HubIdentity(auth), sessions=sessions, hub_auth=auth)
    uvicorn.run(
        app, log_level="info", proxy_headers=False, **listen_options(dict(os.environ), port)
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m airlock", description=__doc__.split("\n")[0])
    parser.add_argument(
        "command", nargs="?", default="serve", choices=["serve", "migrate", "diagram"]
    )
    parser.add_argument("--port", type=int, help="default: JUPYTERHUB_SERVICE_URL's, else 8090")
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

        upgrade(_settings().database_url)
        return
    serve(args.port)


if __name__ == "__main__":
    main()
