"""Browser sessions: the hub token from the OAuth login, in an encrypted, HttpOnly cookie.

The cookie holds the user's hub OAuth token and a CSRF token, encrypted and authenticated with
Fernet (key from a secret made at first start, mode 0600). Every form carries the CSRF token
and every POST is checked against it; the cookie is also ``SameSite=Lax``. The user behind the
token is asked of the hub (cached briefly by HubOAuth), so group changes reach the airlock.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import secrets

from cryptography.fernet import Fernet, InvalidToken

SESSION_COOKIE = "tresor-airlock-session"
STATE_COOKIE = "tresor-airlock-oauth-state"
SESSION_SECONDS = 12 * 3600


@dataclasses.dataclass(frozen=True)
class Session:
    token: str
    csrf: str


class Sessions:
    def __init__(self, secret: str | bytes, *, path: str, secure: bool = False) -> None:
        raw = secret.encode() if isinstance(secret, str) else secret
        key = hashlib.sha256(b"tresor-airlock-session:" + raw).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(key))
        self.path = path
        self.secure = secure

    def encode(self, token: str) -> str:
        payload = {"token": token, "csrf": secrets.token_urlsafe(24)}
        return self._fernet.encrypt(json.dumps(payload).encode()).decode()

    def decode(self, value: str | None, ttl: int = SESSION_SECONDS) -> Session | None:
        if not value:
            return None
        try:
            payload = json.loads(self._fernet.decrypt(value.encode(), ttl=ttl))
            return Session(token=str(payload["token"]), csrf=str(payload["csrf"]))
        except (InvalidToken, ValueError, KeyError, TypeError):
            return None

    def encode_state(self, state: str) -> str:
        return self._fernet.encrypt(state.encode()).decode()

    def state_matches(self, cookie: str | None, state: str) -> bool:
        if not cookie or not state:
            return False
        try:
            stored = self._fernet.decrypt(cookie.encode(), ttl=600).decode()
        except InvalidToken:
            return False
        return hmac.compare_digest(stored, state)

    def cookie_args(self, max_age: int) -> dict:
        return {
            "path": self.path,
            "httponly": True,
            "samesite": "lax",
            "secure": self.secure,
            "max_age": max_age,
        }
