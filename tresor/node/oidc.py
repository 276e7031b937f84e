"""Login for production nodes: OpenID Connect (e.g. LS Login) through oauthenticator.

Who may log in stays in the site config (``allowed_users``); the provider proves identity and
may add hub groups through a claim (for LS Login: ``eduperson_entitlement`` values), mapped one
by one in ``group_map``. Claim values not in the map are ignored, so a provider cannot create
groups or grant datasets the node did not name.
"""

from __future__ import annotations

from oauthenticator.generic import GenericOAuthenticator
from traitlets import Dict, List, Unicode


class TresorOIDCAuthenticator(GenericOAuthenticator):
    """GenericOAuthenticator whose groups are the site config's plus mapped claim values."""

    groups_claim = Unicode(
        "eduperson_entitlement",
        config=True,
        help="""Claim in the userinfo response that lists the user's groups at the provider.""",
    )
    group_map = Dict(
        key_trait=Unicode(),
        value_trait=Unicode(),
        config=True,
        help="""Provider group claim value -> hub group. Unlisted values are ignored.""",
    )
    site_groups = Dict(
        key_trait=Unicode(),
        value_trait=List(Unicode()),
        config=True,
        help="""User name -> hub groups from the site config (roles and projects).

        Group membership is managed by this authenticator (``manage_groups``), so the site
        config's memberships are applied at each login instead of through ``load_groups``.
        """,
    )

    async def get_user_groups(self, auth_state: dict) -> set[str]:
        user_info = auth_state.get(self.user_auth_state_key) or {}
        name = self.normalize_username(self.user_info_to_username(user_info))
        claimed = user_info.get(self.groups_claim) or []
        if isinstance(claimed, str):
            claimed = [claimed]
        mapped = {self.group_map[value] for value in claimed if value in self.group_map}
        return mapped | set(self.site_groups.get(name, ()))
