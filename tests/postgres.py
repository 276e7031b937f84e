"""A throwaway PostgreSQL server for tests: Debian's binaries, a temp data dir, a random port.

As root the server runs as the ``postgres`` system user (PostgreSQL refuses to run as root);
otherwise as the current user. Connections over TCP (loopback only) log in with a password
(SCRAM), as on a node; fsync off (the tests kill airlock processes, never the database).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    def __init__(self) -> None:
        if not (BIN / "initdb").exists():
            raise RuntimeError(
                "PostgreSQL 15 server binaries are missing; run: bash scripts/bootstrap.sh --test"
            )
        self.base = Path(tempfile.mkdtemp(prefix="tresor-pg-"))
        self.data = self.base / "data"
        self.port = free_port()
        self.password = os.urandom(16).hex()  # of the superuser "airlock"
        self.user = None
        if os.geteuid() == 0:
            self.user = "postgres" if _has_user("postgres") else "nobody"
            entry = pwd.getpwnam(self.user)
            os.chown(self.base, entry.pw_uid, entry.pw_gid)
        self.base.chmod(0o755)

    def _run(self, *args: str) -> None:
        command = list(args)
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        subprocess.run(command, check=True, capture_output=True, cwd=self.base)

    def start(self) -> PostgresServer:
        pwfile = self.base / "pwfile"
        pwfile.write_text(self.password)
        pwfile.chmod(0o600)
        if self.user:
            shutil.chown(pwfile, self.user)
        self._run(
            str(BIN / "initdb"),
            "-D", str(self.data), "-U", "airlock", "-E", "UTF8", "--no-sync",
            "--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={pwfile}",
        )  # fmt: skip
        pwfile.unlink()
        options = (
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            str(BIN / "pg_ctl"), "-D", str(self.data), "-o", options,
            "-l", str(self.base / "server.log"), "-w", "start",
        )  # fmt: skip
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://airlock:{self.password}@127.0.0.1:{self.port}/{database}"

    def dsn(self, database: str = "postgres", user: str = "airlock", password: str = "") -> str:
        """A libpq connection string (for psycopg)."""
        password = password or self.password
        return f"host=127.0.0.1 port={self.port} user={user} password={password} dbname={database}"

    def _admin(self):
        import psycopg

        return psycopg.connect(self.dsn(), autocommit=True)

    def new_database(self, template: str | None = None) -> str:
        """A fresh database (empty, or a copy of ``template``); returns its SQLAlchemy URL."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        copy = f' TEMPLATE "{template}"' if template else ""
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"{copy}')
        return self.url(name)

    def new_owned_database(self, role: str) -> dict[str, str]:
        """A fresh database owned by a new login ``role`` with its own password, as a node's
        hub or airlock has: ``{"url": SQLAlchemy URL, "dsn": libpq string}`` for that role."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        role = f"{role}_{name[2:8]}"  # the session's server may hold an earlier one
        password = os.urandom(16).hex()
        with self._admin() as conn:
            conn.execute(f"CREATE ROLE \"{role}\" LOGIN PASSWORD '{password}'")
            conn.execute(f'CREATE DATABASE "{name}" OWNER "{role}"')
        return {
            "url": f"postgresql+psycopg://{role}:{password}@127.0.0.1:{self.port}/{name}",
            "dsn": self.dsn(name, user=role, password=password),
        }

    def stop(self) -> None:
        try:
            self._run(str(BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
