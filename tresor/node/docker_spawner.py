"""Single-user servers of a production node: one hardened container per researcher.

DockerSpawner does the container work; this subclass adds what depends on the user: their
workspace volume (the only writable, persistent place) and read-only mounts of exactly the
datasets their hub groups are granted in the node's catalogue. Everything else (network, limits,
capabilities, read-only root filesystem) is plain DockerSpawner configuration set by
``tresor.node.profiles.docker``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from docker.types import DriverConfig, Mount
from dockerspawner import DockerSpawner
from traitlets import Int, Unicode

from tresor.core.catalogue import DatasetEntry, load_catalogue
from tresor.core.errors import ConfigError


class TresorDockerSpawner(DockerSpawner):
    """DockerSpawner with a per-user workspace volume and grant-based dataset mounts.

    Host paths and container paths are the same for the catalogue and the stores, so catalogue
    entries read by ``tresor.open_dataset`` inside the container resolve unchanged.
    """

    catalogue_dir = Unicode(
        config=True,
        help="""The node's data catalogue (host path, also the path inside the container).

        Only the entries of datasets the user is granted are mounted, read-only; the kernel finds
        them through ``TRESOR_CATALOGUE``.
        """,
    )
    data_root = Unicode(
        config=True,
        help="""Directory every dataset store and phenotype file must lie under.

        A catalogue entry pointing elsewhere (``/etc``, another user's workspace) is refused
        instead of mounted.
        """,
    )
    workspaces_root = Unicode(
        config=True,
        help="""Host directory holding one workspace per user (``<root>/<username>``, mode 0700).

        The workspace volume is a local-driver volume bound to it, so the airlock and backups
        find workspaces at a known host path.
        """,
    )
    workspace_path = Unicode(
        "/home/tresor",
        config=True,
        help="""Where the workspace volume is mounted in the container: the user's home.""",
    )
    workspace_volume_template = Unicode(
        "tresor-workspace-{username}",
        config=True,
        help="""Name of the user's workspace volume; ``{username}`` is the escaped user name.""",
    )
    notebook_uid = Int(10000, config=True, help="""Numeric user the server runs as.""")
    notebook_gid = Int(10000, config=True, help="""Numeric group the server runs as.""")

    # -- the user's datasets -------------------------------------------------------------
    def user_groups(self) -> frozenset[str]:
        return frozenset(group.name for group in self.user.groups)

    def granted_datasets(self) -> list[DatasetEntry]:
        """Catalogue entries one of the user's hub groups is granted, by id."""
        groups = self.user_groups()
        catalogue = load_catalogue(Path(self.catalogue_dir))
        return [e for _, e in sorted(catalogue.items()) if e.granted_to(groups)]

    def _under_data_root(self, path: Path, entry: DatasetEntry) -> str:
        root = Path(self.data_root).resolve()
        resolved = path.resolve()
        if not resolved.is_relative_to(root):
            raise ConfigError(
                f"catalogue entry {entry.id!r} points at {path}, outside the data root {root}; "
                "a node admin must move the data under the data root and fix the entry"
            )
        return str(resolved)

    def dataset_mounts(self) -> list[Mount]:
        """Read-only bind mounts: each granted entry, its store and its phenotype files."""
        catalogue = Path(self.catalogue_dir)
        mounts = []
        for entry in self.granted_datasets():
            sources = [entry.store, *entry.phenotypes.values()]
            entry_file = str(catalogue / f"{entry.id}.toml")
            mounts.append(_read_only_bind(entry_file))
            mounts.extend(_read_only_bind(self._under_data_root(p, entry)) for p in sources)
        return mounts

    # -- the user's workspace ------------------------------------------------------------
    @property
    def workspace_host_path(self) -> Path:
        return Path(self.workspaces_root) / self.user.name

    def workspace_mount(self) -> Mount:
        """The named volume for the workspace, stored at ``<workspaces_root>/<username>``."""
        return Mount(
            target=self.workspace_path,
            source=self._render_templates(self.workspace_volume_template),
            type="volume",
            read_only=False,
            driver_config=DriverConfig(
                "local",
                options={"type": "none", "o": "bind", "device": str(self.workspace_host_path)},
            ),
        )

    @property
    def mount_binds(self) -> list[Mount]:
        return [*super().mount_binds, self.workspace_mount(), *self.dataset_mounts()]

    def get_env(self) -> dict[str, str]:
        env = super().get_env()
        env.update(
            HOME=self.workspace_path,
            TRESOR_WORKSPACE=self.workspace_path,
            TRESOR_CATALOGUE=self.catalogue_dir,
            JUPYTER_RUNTIME_DIR="/tmp/jupyter-runtime",  # noqa: S108 - a per-container tmpfs
        )
        return env

    def ensure_workspace(self) -> None:
        """Create the user's workspace directory (mode 0700, owned by the server's user)."""
        path = self.workspace_host_path
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        if os.geteuid() == 0:
            os.chown(path, self.notebook_uid, self.notebook_gid)
        path.chmod(0o700)

    async def start(self):
        self.ensure_workspace()
        return await super().start()

    async def move_certs(self, paths: dict[str, str]) -> dict[str, str]:
        """Stage this server's internal-SSL key, cert and CA bundle for a read-only bind.

        DockerSpawner's own version needs a helper image pulled from a registry; this one copies
        the three files into ``certs_volume_name`` (a host directory on the state disk), owned by
        the server's user, and returns where the container sees them.
        """
        target = Path(self._render_templates(self.certs_volume_name))
        target.mkdir(mode=0o700, parents=True, exist_ok=True)
        in_container = {}
        for key, hub_path in paths.items():
            name = os.path.basename(hub_path)
            dest = target / name
            shutil.copyfile(hub_path, dest)
            dest.chmod(0o600 if key == "keyfile" else 0o644)
            if os.geteuid() == 0:
                os.chown(dest, self.notebook_uid, self.notebook_gid)
            in_container[key] = f"/certs/{name}"
        if os.geteuid() == 0:
            os.chown(target, self.notebook_uid, self.notebook_gid)
        return in_container


def _read_only_bind(path: str) -> Mount:
    """A bind mount at the same path inside the container, read-only, no propagation."""
    return Mount(target=path, source=path, type="bind", read_only=True, propagation="rprivate")
