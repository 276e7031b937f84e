"""tresor inside JupyterLab: the single-user server's extension (``tresor.lab``).

Loaded by every researcher's server (``images/notebook/jupyter/jupyter_server_config.json``, on
the local profile too), it

- copies the workspace's README and example notebooks on start (:mod:`tresor.lab.examples`);
- answers the airlock panel and the "Submit to airlock…" dialog of the JupyterLab extension
  (``tresor/lab/js``, built into ``tresor/lab/labextension``) by calling the airlock with the
  server's own hub token, which never reaches the browser (:mod:`tresor.lab.airlock`);
- serves the dashboard of a Dask cluster that one of the server's own kernels runs, and nothing
  else (:mod:`tresor.lab.dashboards`); the generic ``/proxy/<port>/`` stays closed.
"""

from __future__ import annotations

from pathlib import Path

#: the built JupyterLab extension (prebuilt: installed by copying, no JavaScript build)
LABEXTENSION = Path(__file__).with_name("labextension")
#: its name, the directory it is installed as under ``<data dir>/labextensions``
LABEXTENSION_NAME = "@tresor/lab"


def _jupyter_server_extension_points() -> list[dict]:
    return [{"module": "tresor.lab"}]


def _load_jupyter_server_extension(serverapp) -> None:
    from tresor.lab import airlock, dashboards, examples

    web_app = serverapp.web_app
    base_url = web_app.settings["base_url"]
    web_app.add_handlers(".*$", [*airlock.handlers(base_url), *dashboards.handlers(base_url)])
    try:
        copied = examples.install(Path(serverapp.root_dir))
    except OSError as e:  # a full or read-only workspace must not stop the server
        serverapp.log.warning("tresor: examples not copied into the workspace: %s", e)
    else:
        if copied:
            serverapp.log.info("tresor: copied into the workspace: %s", ", ".join(copied))


#: the extension's sources (TypeScript, styles, package files with the npm lock)
LABEXTENSION_SOURCES = Path(__file__).with_name("js")
#: written beside the built form by scripts/build-labextension.sh
SOURCES_DIGEST_FILE = "tresor-sources.sha256"


def sources_digest(root: Path = LABEXTENSION_SOURCES) -> str:
    """SHA-256 over the extension's sources (paths and bytes): the built form in
    :data:`LABEXTENSION` records the digest it was built from."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and relative.parts[0] not in ("lib", "node_modules", "labextension"):
            digest.update(relative.as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
