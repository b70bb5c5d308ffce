"""Payees: where an expert is paid. Validated here; never logged or shown unmasked."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

from cohort_payout.domain.ledger import currency_violations
from cohort_runtime.domain_errors import InvalidInput, Violation

_COUNTRY = re.compile(r"^[A-Z]{2}$")


@dataclass(frozen=True)
class Payee:
    expert_id: str
    iban: str = field(repr=False)
    bic: str
    account_holder: str = field(repr=False)
    country: str
    currency: str

    @property
    def iban_masked(self) -> str:
        return self.iban[:2] + "*" * (len(self.iban) - 6) + self.iban[-4:]

    @property
    def holder_masked(self) -> str:
        return " ".join(part[0] + "." for part in self.account_holder.split() if part)


def validated(expert_id: str, iban: str, bic: str, account_holder: str, country: str, currency: str) -> Payee:
    """A payee with normalised fields (compact IBAN, upper-case codes), or every violation at once."""
    v: list[Violation] = []
    if not expert_id:
        v.append(Violation("expert_id", "required"))
    compact = ""
    try:
        compact = IBAN(iban).compact
    except SchwiftyException as exc:
        # The message names the rule broken (checksum, length, country), never the number itself.
        v.append(Violation("iban", f"not a valid IBAN: {exc}"))
    code = bic.replace(" ", "").upper()
    if code:
        try:
            code = str(BIC(code))
        except SchwiftyException as exc:
            v.append(Violation("bic", f"not a valid BIC: {exc}"))
    holder = " ".join(account_holder.split())
    if not 1 <= len(holder) <= 70:
        v.append(Violation("account_holder", "1..70 characters"))
    elif not holder.isprintable():
        # A payment file carries it verbatim; a control or format character would spoil the run's
        # file for every payee in it.
        v.append(Violation("account_holder", "must hold printable characters only"))
    if not _COUNTRY.match(country):
        v.append(Violation("country_code", "must be an ISO 3166-1 alpha-2 code, e.g. 'DE'"))
    v += currency_violations(currency)
    if v:
        raise InvalidInput(v)
    return Payee(expert_id, compact, code, holder, country, currency)
