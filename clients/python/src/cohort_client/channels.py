"""Channels to Cohort's services: TLS when the environment names a CA to trust.

COHORT_TLS_CA_FILE (PEM) turns TLS on and is the CA trusted; COHORT_TLS_CERT_FILE and
COHORT_TLS_KEY_FILE, when both are set, are presented as the client certificate (services that
demand mutual TLS). Without them the channel is plaintext (a local stack started without TLS=1).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import grpc


def credentials(secure: bool = False) -> grpc.ChannelCredentials | None:
    """Credentials from the environment; the system's CAs when only `secure` is asked for; None
    for plaintext."""
    ca = os.environ.get("COHORT_TLS_CA_FILE")
    if not ca:
        return grpc.ssl_channel_credentials() if secure else None
    cert, key = os.environ.get("COHORT_TLS_CERT_FILE"), os.environ.get("COHORT_TLS_KEY_FILE")
    return grpc.ssl_channel_credentials(
        Path(ca).read_bytes(),
        private_key=Path(key).read_bytes() if cert and key else None,
        certificate_chain=Path(cert).read_bytes() if cert and key else None,
    )


def sync_channel(target: str, *, secure: bool = False, options: list[tuple[str, Any]] | None = None) -> grpc.Channel:
    creds = credentials(secure)
    if creds is None:
        return grpc.insecure_channel(target, options=options)
    return grpc.secure_channel(target, creds, options=options)


def aio_channel(target: str, *, secure: bool = False, options: list[tuple[str, Any]] | None = None) -> grpc.aio.Channel:
    creds = credentials(secure)
    if creds is None:
        return grpc.aio.insecure_channel(target, options=options)
    return grpc.aio.secure_channel(target, creds, options=options)
