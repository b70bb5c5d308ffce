"""How the chassis reaches the brokers: settings that cannot work are refused at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from cohort_runtime.kafka import KafkaSecurity


def test_plaintext_sends_no_credentials() -> None:
    assert KafkaSecurity().options() == {"security_protocol": "PLAINTEXT"}


def test_sasl_options_carry_the_mechanism_and_credentials() -> None:
    security = KafkaSecurity("SASL_PLAINTEXT", sasl_mechanism="SCRAM-SHA-512", sasl_username="u", sasl_password="p")
    options = security.options()
    assert options == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "u",
        "sasl_plain_password": "p",
    }


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"protocol": "SASL_SSL", "sasl_mechanism": "PLAIN", "sasl_username": "u"}, "needs a SASL mechanism"),
        ({"protocol": "SSL", "cert_file": Path("c.pem")}, "both its certificate and its key"),
        ({"protocol": "SASL_PLAINTEXT", "cert_file": Path("c"), "key_file": Path("k"), "sasl_mechanism": "PLAIN",
          "sasl_username": "u", "sasl_password": "p"}, "needs TLS"),
    ],
)  # fmt: skip
def test_settings_that_cannot_work_are_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        KafkaSecurity(**fields)  # type: ignore[arg-type]
