"""Create the local stack's Ed25519 token key pair once (private key mode 0600)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from cohort_runtime.tokens import generate_keypair


def main() -> int:
    folder = Path(sys.argv[1])
    folder.mkdir(parents=True, exist_ok=True)
    private, public = folder / "token_private.pem", folder / "token_public.pem"
    if private.exists() and public.exists():
        return 0
    private_pem, public_pem = generate_keypair()
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(private_pem)
    public.write_text(public_pem)
    return 0


if __name__ == "__main__":
    sys.exit(main())
