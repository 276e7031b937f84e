"""Run the airlock as a JupyterHub-managed service: ``python -m airlock --port 8090``.

Until the airlock workflow lands this serves a placeholder page behind hub login (HubOAuth), so
the service registration, OAuth and roles are exercised end to end.
"""

from __future__ import annotations

import argparse
import html
import os
import secrets

from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated
from jupyterhub.utils import url_path_join
from tornado import ioloop, web


class PlaceholderHandler(HubOAuthenticated, web.RequestHandler):
    @web.authenticated
    def get(self) -> None:
        user = self.get_current_user()
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.write(
            "<!doctype html><title>tresor airlock</title><h1>tresor airlock</h1>"
            f"<p>Signed in as {html.escape(user['name'])}.</p>"
            "<p>The airlock is not yet open on this node: outputs cannot leave yet.</p>"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m airlock")
    parser.add_argument("--port", type=int, default=8090)
    args = parser.parse_args(argv)
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/airlock/")
    app = web.Application(
        [
            (prefix, PlaceholderHandler),
            (url_path_join(prefix, "oauth_callback"), HubOAuthCallbackHandler),
        ],
        cookie_secret=secrets.token_bytes(32),
    )
    app.listen(args.port, address="127.0.0.1")
    ioloop.IOLoop.current().start()


if __name__ == "__main__":
    main()
