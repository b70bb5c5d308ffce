"""Create the local stack's secrets once (mode 0600): the Ed25519 token key pairs (the platform's,
and intake's for lab tokens), the Fernet key
that seals payees' bank details in payout, the secret that signs page tokens and the local Kafka
broker's SASL password; with --tls also a local CA and a certificate it signs for localhost
(tls/ca.pem, tls/tls.pem, tls/tls.key)."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

from cryptography.fernet import Fernet

from cohort_runtime.tls import local_authority
from cohort_runtime.tokens import generate_keypair


def main() -> int:
    folder = Path(sys.argv[1])
    if "--tls" in sys.argv[2:]:
        local_authority(folder / "tls")
    folder.mkdir(parents=True, exist_ok=True)
    # The platform's token key pair, and intake's own for lab tokens.
    for name in ("token", "lab_token"):
        private, public = folder / f"{name}_private.pem", folder / f"{name}_public.pem"
        if not (private.exists() and public.exists()):
            private_pem, public_pem = generate_keypair()
            _write_secret(private, private_pem)
            public.write_text(public_pem)
    payee_key = folder / "payee.key"
    if not payee_key.exists():
        _write_secret(payee_key, Fernet.generate_key().decode())
    for name in ("page_token.secret", "kafka.password", "pseudonym.key", "webhook_secret.key"):
        if not (folder / name).exists():
            _write_secret(folder / name, secrets.token_urlsafe(32))
    return 0


def _write_secret(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


if __name__ == "__main__":
    sys.exit(main())
