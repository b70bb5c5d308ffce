"""TLS for gRPC: the server's credentials from mounted certificate files, channels that trust a
given CA, and a local certificate authority for `make up TLS=1` and the tests.

Server: COHORT_TLS_CERT_FILE and COHORT_TLS_KEY_FILE (PEM) turn TLS on; with
COHORT_TLS_CLIENT_CA_FILE as well, callers must present a certificate that CA signed (mutual TLS,
for service-to-service hops). Clients: COHORT_TLS_CA_FILE is the CA a service trusts for the
services it calls (the workbench) and the probe trusts.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def server_credentials(
    cert_file: Path | None, key_file: Path | None, client_ca_file: Path | None = None
) -> grpc.ServerCredentials | None:
    """None when no certificate is configured (plaintext, inside a trusted network only)."""
    if cert_file is None and key_file is None:
        return None
    if cert_file is None or key_file is None:
        raise ValueError("TLS needs both COHORT_TLS_CERT_FILE and COHORT_TLS_KEY_FILE")
    pair = [(key_file.read_bytes(), cert_file.read_bytes())]
    if client_ca_file is None:
        return grpc.ssl_server_credentials(pair)
    return grpc.ssl_server_credentials(pair, root_certificates=client_ca_file.read_bytes(), require_client_auth=True)


def channel(
    target: str, ca_file: Path | None, *, client_cert: tuple[Path, Path] | None = None, server_name: str = ""
) -> grpc.aio.Channel:
    """An asyncio channel: TLS trusting `ca_file` when given (and presenting `client_cert`, a
    (certificate, key) pair, for mutual TLS), plaintext otherwise."""
    if ca_file is None:
        return grpc.aio.insecure_channel(target)
    key, cert = (client_cert[1].read_bytes(), client_cert[0].read_bytes()) if client_cert else (None, None)
    credentials = grpc.ssl_channel_credentials(ca_file.read_bytes(), private_key=key, certificate_chain=cert)
    options = [("grpc.ssl_target_name_override", server_name)] if server_name else []
    return grpc.aio.secure_channel(target, credentials, options=options)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def local_authority(folder: Path, names: tuple[str, ...] = ("localhost",), days: int = 365) -> dict[str, Path]:
    """A CA and one certificate it signs for `names` (and 127.0.0.1, ::1), valid for server and
    client use, written to `folder` (keys 0600) unless present: ca.pem, tls.pem, tls.key."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"ca": folder / "ca.pem", "cert": folder / "tls.pem", "key": folder / "tls.key"}
    if all(p.exists() for p in paths.values()):
        return paths
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Cohort local CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    alternative = [x509.DNSName(n) for n in names] + [
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(alternative), critical=False)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths["key"].touch(mode=0o600)
    paths["key"].write_bytes(_key_pem(key))
    return paths
