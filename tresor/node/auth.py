"""Login for the embedded node: local accounts with generated passwords."""

from __future__ import annotations

import asyncio
from pathlib import Path

from jupyterhub.auth import Authenticator
from traitlets import Unicode

from tresor.node.accounts import AccountStore


class TresorLocalAuthenticator(Authenticator):
    """Checks a user name and password against the node's account store (scrypt hashes).

    Only accounts named in the site config may log in (``allowed_users``); ``allow_all`` stays
    False. Production nodes use OIDC (oauthenticator) instead.
    """

    accounts_file = Unicode(
        "",
        config=True,
        help="""Path of the JSON file with the local accounts' password hashes (mode 0600).

        Written by ``tresor node start`` at first start.
        """,
    )

    async def authenticate(self, handler, data: dict) -> str | None:
        name = self.normalize_username(data.get("username", ""))
        password = data.get("password", "")
        if not (name and password and self.accounts_file):
            return None
        store = AccountStore(Path(self.accounts_file))
        ok = await asyncio.get_running_loop().run_in_executor(None, store.verify, name, password)
        if not ok:
            self.log.warning("failed login for %r", name)
            return None
        return name
