"""Internal TLS for services the hub does not start (the airlock container).

With ``internal_ssl`` the hub API accepts only clients holding a certificate from one of its
internal CAs. JupyterHub issues certificates to the servers and services it starts; a service in
its own container needs one too. This creates it in the hub's own certificate store (certipy,
as JupyterHub does), signed by the ``services-ca`` the hub then reuses, so no second CA exists.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

#: the CA JupyterHub signs services with, and the one that signs the hub's own certificate
SERVICES_CA = "services-ca"
HUB_CA = "hub-ca"


def external_service_certs(
    store_dir: Path, name: str, hostnames: list[str], *, owner_uid: int | None = None
) -> dict[str, Path]:
    """Key, certificate and the hub's CA for service ``name``, in ``<store_dir>/<name>/``.

    Created once, then reused. The service container mounts that directory read-only and sets
    ``JUPYTERHUB_SSL_KEYFILE``, ``JUPYTERHUB_SSL_CERTFILE`` and ``JUPYTERHUB_SSL_CLIENT_CA``
    (read by ``HubOAuth``). Files belong to ``owner_uid`` when running as root.
    """
    from certipy import Certipy, CertNotFoundError

    certipy = Certipy(store_dir=str(store_dir))
    for ca in (HUB_CA, SERVICES_CA):
        try:
            certipy.store.get_record(ca)
        except CertNotFoundError:
            certipy.create_ca(ca)
    try:
        record = certipy.store.get_record(name)
    except CertNotFoundError:
        alt_names = [f"DNS:{host}" for host in hostnames]
        record = certipy.create_signed_pair(name, SERVICES_CA, alt_names=alt_names)
    files = record["files"]
    directory = Path(files["key"]).parent
    hub_ca = directory / "hub-ca.crt"
    shutil.copyfile(certipy.store.get_record(HUB_CA)["files"]["cert"], hub_ca)
    paths = {"key": Path(files["key"]), "cert": Path(files["cert"]), "ca": hub_ca}
    directory.chmod(0o700)
    paths["key"].chmod(0o600)
    if owner_uid is not None and os.geteuid() == 0:
        for path in (directory, *paths.values()):
            os.chown(path, owner_uid, -1)
    return paths
