-- Where experts are paid. The bank details (IBAN, BIC, holder) are sealed by the service
-- (Fernet, key from COHORT_PAYOUT_PAYEE_KEY) and never stored, logged or returned in clear.
CREATE TABLE payees (
    expert_id   text PRIMARY KEY,
    country     char(2) NOT NULL,
    currency    char(3) NOT NULL,
    sealed      bytea NOT NULL,
    update_time timestamptz NOT NULL
);
