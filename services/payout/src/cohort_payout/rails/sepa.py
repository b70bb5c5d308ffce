"""SEPA credit transfer: ISO 20022 pain.001.001.03, built with sepaxml and validated against the
XSD it ships (a file that does not validate is never handed out)."""

from __future__ import annotations

import datetime as dt

from sepaxml import SepaTransfer
from sepaxml.validation import ValidationError

from cohort_payout.rails.base import Debtor, Payment, PaymentFile, RailError

SCHEMA = "pain.001.001.03"


class _Transfer(SepaTransfer):  # type: ignore[misc]
    """sepaxml draws a random message id when it builds the header; ours is deterministic (the
    same run renders the same MsgId), so the header is built with it instead."""

    def __init__(self, message_id: str, config: dict[str, object]) -> None:
        self._message_id = message_id
        super().__init__(config, schema=SCHEMA, clean=True)

    def _create_header(self) -> None:
        self.msg_id = self._message_id
        super()._create_header()


class SepaRail:
    name = "sepa"

    def render(self, message_id: str, debtor: Debtor, payments: list[Payment], execution_date: dt.date) -> PaymentFile:
        if any(p.currency != "EUR" for p in payments):
            raise RailError("SEPA credit transfers are in EUR only")
        config = {
            "name": debtor.name,
            "IBAN": debtor.iban,
            "BIC": debtor.bic,
            "batch": True,
            "currency": "EUR",
        }
        transfer = _Transfer(message_id, config)
        for p in payments:
            payment = {
                "name": p.account_holder,
                "IBAN": p.iban,
                "amount": p.amount_minor,
                "execution_date": execution_date,
                "description": p.description,
                "endtoend_id": p.end_to_end_id,
            }
            if p.bic:
                payment["BIC"] = p.bic
            transfer.add_payment(payment)
        try:
            content = transfer.export(validate=True)
        except ValidationError as exc:
            raise RailError(f"the {SCHEMA} file does not validate against its XSD: {exc.__cause__}") from exc
        return PaymentFile(content, "application/xml", f"{message_id}.xml")
