"""Internal TLS for services the hub does not start (the airlock and gateway containers).

With ``internal_ssl`` the hub API accepts only clients holding a certificate from one of its
internal CAs. JupyterHub issues certificates to the servers and services it starts; a service in
its own container needs one too. This creates it in the hub's own certificate store (certipy,
as JupyterHub does) before the hub starts; the hub then reuses the CAs, so no second CA exists.

The certificate is signed by ``hub-ca``, the one CA that all of JupyterHub's trust bundles hold:
the proxy (routing ``/services/<name>/`` to it) and the notebook servers (``tresor.airlock`` in a
kernel calls the airlock directly on the internal network) check the service with their own
bundles. The service in turn accepts clients of the CAs in ``client-ca.crt``: the hub, the
proxy's client certificate and the notebook servers.
"""

from __future__ import annotations

import os
from pathlib import Path

#: the CA every JupyterHub component trusts (it signs the hub's own certificate)
HUB_CA = "hub-ca"
#: the CAs of the clients an external service accepts: the hub, the proxy, notebook servers
CLIENT_CAS = (HUB_CA, "proxy-client-ca", "notebooks-ca")
#: the bundle of CLIENT_CAS, next to the service's key and certificate
CLIENT_CA_FILE = "client-ca.crt"


def external_service_certs(
    store_dir: Path, name: str, hostnames: list[str], *, owner_uid: int | None = None
) -> dict[str, Path]:
    """Key, certificate and the client-CA bundle for service ``name``, in ``<store_dir>/<name>/``.

    Created once, then reused (a certificate from another CA, as earlier versions made, is
    replaced). The service container mounts that directory read-only and sets
    ``JUPYTERHUB_SSL_KEYFILE``, ``JUPYTERHUB_SSL_CERTFILE`` and ``JUPYTERHUB_SSL_CLIENT_CA``
    (read by ``HubOAuth``, and by the airlock to check its clients). Files belong to
    ``owner_uid`` when running as root.
    """
    from certipy import Certipy, CertNotFoundError

    certipy = Certipy(store_dir=str(store_dir))
    for ca in CLIENT_CAS:
        try:
            certipy.store.get_record(ca)
        except CertNotFoundError:
            certipy.create_ca(ca)
    try:
        record = certipy.store.get_record(name)
    except CertNotFoundError:
        record = None
    if record is None or record.get("parent_ca") != HUB_CA:
        alt_names = [f"DNS:{host}" for host in hostnames]
        record = certipy.create_signed_pair(name, HUB_CA, alt_names=alt_names, overwrite=True)
    files = record["files"]
    directory = Path(files["key"]).parent
    bundle = directory / CLIENT_CA_FILE
    ca_certs = [Path(certipy.store.get_record(ca)["files"]["cert"]) for ca in CLIENT_CAS]
    bundle.write_bytes(b"".join(cert.read_bytes() for cert in ca_certs))
    paths = {"key": Path(files["key"]), "cert": Path(files["cert"]), "ca": bundle}
    directory.chmod(0o700)
    paths["key"].chmod(0o600)
    bundle.chmod(0o644)
    if owner_uid is not None and os.geteuid() == 0:
        for path in (directory, *paths.values()):
            os.chown(path, owner_uid, -1)
    return paths
