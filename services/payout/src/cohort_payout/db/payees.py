"""Payees at rest: the bank details sealed with Fernet (AES-128-CBC + HMAC-SHA256) under the key
from COHORT_PAYOUT_PAYEE_KEY; only the expert id, country, currency and update time are clear."""

from __future__ import annotations

import datetime as dt
import json

import asyncpg
from cryptography.fernet import Fernet, InvalidToken

from cohort_payout.domain.payees import Payee


class Sealer:
    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode())

    def seal(self, payee: Payee) -> bytes:
        clear = json.dumps({"iban": payee.iban, "bic": payee.bic, "holder": payee.account_holder})
        return self._fernet.encrypt(clear.encode())

    def open(self, expert_id: str, country: str, currency: str, sealed: bytes) -> Payee:
        try:
            clear = json.loads(self._fernet.decrypt(sealed))
        except InvalidToken as exc:
            raise RuntimeError(f"payee of {expert_id} cannot be decrypted with the configured key") from exc
        return Payee(expert_id, clear["iban"], clear["bic"], clear["holder"], country, currency)


async def upsert(conn: asyncpg.Connection, payee: Payee, sealer: Sealer, now: dt.datetime) -> None:
    await conn.execute(
        """INSERT INTO payees (expert_id, country, currency, sealed, update_time) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (expert_id) DO UPDATE SET country = EXCLUDED.country, currency = EXCLUDED.currency,
               sealed = EXCLUDED.sealed, update_time = EXCLUDED.update_time""",
        payee.expert_id,
        payee.country,
        payee.currency,
        sealer.seal(payee),
        now,
    )


async def get_many(
    conn: asyncpg.Connection, expert_ids: list[str], sealer: Sealer
) -> dict[str, tuple[Payee, dt.datetime]]:
    rows = await conn.fetch("SELECT * FROM payees WHERE expert_id = ANY($1::text[])", expert_ids)
    return {
        r["expert_id"]: (
            sealer.open(r["expert_id"], r["country"], r["currency"].strip(), r["sealed"]),
            r["update_time"],
        )
        for r in rows
    }
