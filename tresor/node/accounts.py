"""Local accounts of the embedded node: generated passwords, stored as scrypt hashes (0600).

Passwords are generated at first start and shown once; only their hashes are kept. An admin can
reset one with ``tresor accounts reset-password NAME``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import tempfile
from pathlib import Path

from tresor.core.secrets import check_private_file

# scrypt cost: about 50 ms per login on this kind of machine; memory 16 MiB
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


def _hash(password: str, salt: bytes) -> str:
    return hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT).hex()


def generate_password() -> str:
    """A random password: 16 characters from the URL-safe alphabet (96 bits)."""
    return secrets.token_urlsafe(12)


class AccountStore:
    """Password hashes in a JSON file: {name: {"salt": hex, "scrypt": hex}}."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def _load(self) -> dict[str, dict[str, str]]:
        if not self.path.exists():
            return {}
        check_private_file(self.path)
        return json.loads(self.path.read_text("utf-8"))

    def _save(self, accounts: dict[str, dict[str, str]]) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".accounts.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:  # mkstemp creates mode 0600
                json.dump(accounts, f, indent=1, sort_keys=True)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def names(self) -> set[str]:
        return set(self._load())

    def ensure(self, names: list[str]) -> dict[str, str]:
        """Create accounts that do not exist yet; returns {name: new password} to show once."""
        accounts = self._load()
        created = {name: generate_password() for name in names if name not in accounts}
        if created:
            for name, password in created.items():
                salt = secrets.token_bytes(16)
                accounts[name] = {"salt": salt.hex(), "scrypt": _hash(password, salt)}
            self._save(accounts)
        return created

    def reset(self, name: str) -> str:
        """Give ``name`` a new generated password and return it."""
        accounts = self._load()
        if name not in accounts:
            raise KeyError(f"no local account {name!r}; accounts: {', '.join(sorted(accounts))}")
        password = generate_password()
        salt = secrets.token_bytes(16)
        accounts[name] = {"salt": salt.hex(), "scrypt": _hash(password, salt)}
        self._save(accounts)
        return password

    def verify(self, name: str, password: str) -> bool:
        record = self._load().get(name)
        if record is None:
            _hash(password, b"\0" * 16)  # same cost for unknown names: no timing oracle
            return False
        return hmac.compare_digest(record["scrypt"], _hash(password, bytes.fromhex(record["salt"])))
