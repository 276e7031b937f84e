"""Jupyter server extension of every single-user server: no file download routes.

Outputs leave a node only through the airlock. JupyterLab's download menu items are disabled
and locked in the page config (``images/notebook/jupyter``, used by the notebook image and put
on ``JUPYTER_CONFIG_PATH`` by the local spawner); this extension closes the server routes behind
them: ``/files/`` (raw file download), ``/nbconvert/`` (export as HTML, PDF, ...) and
jupyter-server-proxy's generic ``/proxy/<port>/`` (any web server a kernel starts, which could
serve any file), for every HTTP method. Terminals are switched off in the same server config.
The contents API still serves file bodies to the editor, so what a researcher can see on screen
is not controlled here.
"""

from __future__ import annotations

from jupyter_server.utils import url_path_join
from tornado import web

#: route prefixes refused by the single-user server, under its base URL
REFUSED_PREFIXES = ("files", "nbconvert", "proxy")

MESSAGE = (
    "File downloads are turned off on this node. Results leave through the airlock: submit "
    "them for review from the airlock page."
)


class RefusedHandler(web.RequestHandler):
    """Answers 403 with a message saying how outputs do leave."""

    def prepare(self) -> None:
        raise web.HTTPError(403, MESSAGE)

    def write_error(self, status_code: int, **kwargs) -> None:
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(MESSAGE if status_code == 403 else self._reason)


def _jupyter_server_extension_points() -> list[dict]:
    return [{"module": "tresor.node.lockdown"}]


def _load_jupyter_server_extension(serverapp) -> None:
    base_url = serverapp.web_app.settings["base_url"]
    handlers = [
        (url_path_join(base_url, prefix, ".*"), RefusedHandler) for prefix in REFUSED_PREFIXES
    ]
    # tornado tries host rules in the order they were added, and extensions loaded after this
    # one (jupyter-server-proxy) add theirs later: put this rule first, wherever it was added
    web_app = serverapp.web_app
    web_app.add_handlers(".*$", handlers)
    rules = web_app.default_router.rules
    rules.insert(0, rules.pop(-2))  # add_handlers put it just before the fallback rule
    serverapp.log.info(
        "tresor lockdown: refusing %s", ", ".join(f"/{p}/" for p in REFUSED_PREFIXES)
    )
