"""Each researcher's own TLS certificate for the Dask clusters their kernels start.

A ``LocalCluster`` listens on loopback ports that every account on the machine can reach, and
a Dask scheduler runs whatever task a client sends it. On an isolated node, every researcher's
server gets a self-signed certificate of their own (its own CA) and Dask's configuration
requiring TLS with it, so schedulers and workers accept only clients holding that certificate:
another researcher's kernel cannot submit work to them. (Dask's ``Security.temporary()`` does the
same per cluster; this one holds for clusters made without arguments too.)
"""

from __future__ import annotations

import datetime
import os
from pathlib import Path

#: a certificate is replaced this long before it expires
RENEW_BEFORE = datetime.timedelta(days=30)


def _valid(path: Path) -> bool:
    """A current certificate in ``path``, read as root from a directory the researcher owns:
    a regular file only (no link, FIFO or device), its first 16 KiB."""
    import stat

    from cryptography import x509

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False
        cert = x509.load_pem_x509_certificate(os.read(fd, 16384))
    except (OSError, ValueError):
        return False
    finally:
        os.close(fd)
    now = datetime.datetime.now(datetime.UTC)
    return cert.not_valid_after_utc - now > RENEW_BEFORE


def ensure_certificate(path: Path, *, owner: os.stat_result) -> Path:
    """Key and self-signed certificate in one PEM file (mode 0600, the owner's of ``owner``)."""
    if _valid(path):
        return path
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tresor dask")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ) + cert.public_bytes(serialization.Encoding.PEM)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    # the directory is the researcher's: never follow a name they may swap (O_EXCL, fchown)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as f:
        os.fchown(f.fileno(), owner.st_uid, owner.st_gid)
        f.write(pem)
    os.replace(tmp, path)
    return path


def environment(certificate: Path) -> dict[str, str]:
    """Dask configuration (environment variables) requiring TLS with ``certificate``."""
    pem = str(certificate)
    env = {
        "DASK_DISTRIBUTED__COMM__REQUIRE_ENCRYPTION": "True",
        "DASK_DISTRIBUTED__COMM__TLS__CA_FILE": pem,
    }
    for role in ("SCHEDULER", "WORKER", "CLIENT"):
        env[f"DASK_DISTRIBUTED__COMM__TLS__{role}__CERT"] = pem
        env[f"DASK_DISTRIBUTED__COMM__TLS__{role}__KEY"] = pem
    return env
