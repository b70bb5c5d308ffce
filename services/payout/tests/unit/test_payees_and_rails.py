"""Payee validation and masking; the SEPA file validates against its XSD; the CSV batch is safe."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import xml.etree.ElementTree as ET

import pytest
import sepaxml
import xmlschema

from cohort_payout.domain.payees import validated
from cohort_payout.rails.base import Debtor, Payment, RailError
from cohort_payout.rails.csv_batch import CsvRail
from cohort_payout.rails.sepa import SCHEMA, SepaRail
from cohort_runtime.domain_errors import InvalidInput

DEBTOR = Debtor("Cohort Platform GmbH", "DE89370400440532013000", "COBADEFFXXX")
XSD = os.path.join(os.path.dirname(sepaxml.__file__), "schemas", f"{SCHEMA}.xsd")


def payments() -> list[Payment]:
    return [
        Payment("CO" + "a" * 32, "exp_alice01", "FR1420041010050500013M02606", "", "Alice Martin", 12345, "EUR", "x"),
        Payment("CO" + "b" * 32, "exp_bob0001", "NL91ABNA0417164300", "ABNANL2A", "Bob de Vries", 99, "EUR", "y"),
    ]


def test_a_payee_is_normalised_and_only_ever_shown_masked() -> None:
    p = validated("exp_alice01", "de89 3704 0044 0532 0130 00", "coba de ff xxx", " Alice  Martin ", "DE", "EUR")
    assert (p.iban, p.bic, p.account_holder) == ("DE89370400440532013000", "COBADEFFXXX", "Alice Martin")
    assert p.iban_masked == "DE****************3000" and p.holder_masked == "A. M."
    assert "0532" not in repr(p) and "Alice" not in repr(p)


def test_bad_payees_name_every_broken_field_without_echoing_the_number() -> None:
    with pytest.raises(InvalidInput) as err:
        validated("", "DE89370400440532013001", "COBA", "", "Germany", "euro")
    fields = {v.field for v in err.value.violations}
    assert fields == {"expert_id", "iban", "bic", "account_holder", "country_code", "currency_code"}
    assert "370400440532013001" not in str(err.value)


def test_sepa_file_validates_and_carries_the_payments() -> None:
    file = SepaRail().render("COHORT-test", DEBTOR, payments(), dt.date(2026, 11, 27))
    xmlschema.XMLSchema(XSD).validate(file.content.decode())  # raises if it does not validate
    ns = {"p": f"urn:iso:std:iso:20022:tech:xsd:{SCHEMA}"}
    root = ET.fromstring(file.content)  # noqa: S314 - our own rendering, not untrusted input
    assert root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:MsgId", namespaces=ns) == "COHORT-test"
    assert root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:NbOfTxs", namespaces=ns) == "2"
    assert root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", namespaces=ns) == "124.44"
    e2e = [e.text for e in root.iter(f"{{{ns['p']}}}EndToEndId")]
    assert e2e == ["CO" + "a" * 32, "CO" + "b" * 32]
    assert file.content_type == "application/xml"


def test_sepa_refuses_other_currencies() -> None:
    usd = [Payment("CO1", "exp_x00001", "DE89370400440532013000", "", "X", 1, "USD", "z")]
    with pytest.raises(RailError):
        SepaRail().render("COHORT-usd", DEBTOR, usd, dt.date(2026, 11, 27))


def test_csv_batch_has_a_line_per_payment_and_neutralises_formulas() -> None:
    evil = [Payment("CO2", "exp_evil01", "NL91ABNA0417164300", "", "=HYPERLINK(1)", 5, "EUR", "@x")]
    file = CsvRail().render("COHORT-csv", DEBTOR, payments() + evil, dt.date(2026, 11, 27))
    rows = list(csv.DictReader(io.StringIO(file.content.decode())))
    assert [r["amount"] for r in rows] == ["123.45", "0.99", "0.05"]
    assert rows[2]["account_holder"] == "'=HYPERLINK(1)" and rows[2]["description"] == "'@x"
    assert rows[0]["execution_date"] == "2026-11-27" and file.content_type == "text/csv"
