-- The double-entry ledger. Amounts are integer minor units; an entry's amount is positive for a
-- debit and negative for a credit; every transaction's entries sum to zero per currency (checked
-- by the application before commit and by the stateful test after every step).
CREATE TABLE accounts (
    account_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL,           -- e.g. 'expert:exp_ab12:payable', 'project:<uuid>:spend'
    currency    char(3) NOT NULL,
    balance     bigint NOT NULL DEFAULT 0,  -- materialised sum of entries, kept in the same transaction
    UNIQUE (name, currency)
);

CREATE TABLE transactions (
    transaction_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idempotency_key text NOT NULL UNIQUE,   -- the source event id or request id: a replay posts nothing
    kind            text NOT NULL,
    post_time       timestamptz NOT NULL
);

CREATE TABLE entries (
    transaction_id bigint NOT NULL REFERENCES transactions (transaction_id),
    account_id     bigint NOT NULL REFERENCES accounts (account_id),
    amount         bigint NOT NULL CHECK (amount <> 0),
    PRIMARY KEY (transaction_id, account_id)
);
CREATE INDEX entries_by_account ON entries (account_id, transaction_id);

-- Rate cards from ProjectActivated: what a submission and a review earn.
CREATE TABLE rate_cards (
    project_id         uuid PRIMARY KEY,
    currency           char(3) NOT NULL,
    per_submission     bigint,             -- set for per-submission pay
    hourly_rate        bigint,             -- set for hourly pay
    per_task_cap_secs  integer NOT NULL DEFAULT 0,
    review_rate        bigint NOT NULL,
    budget_cap         bigint NOT NULL,
    fee_bps            integer NOT NULL    -- platform fee on top of each accepted earning
);

-- What is known of each submission; verdicts may arrive before the submission itself.
CREATE TABLE submissions (
    submission_id uuid PRIMARY KEY,
    project_id    uuid NOT NULL,
    expert_id     text,
    amount        bigint,                 -- the earning, once the submission and rate card are known
    active_secs   integer NOT NULL DEFAULT 0,
    created       boolean NOT NULL DEFAULT false,
    verdict       text CHECK (verdict IN ('accepted', 'rejected')),
    state         text NOT NULL CHECK (state IN ('waiting', 'pending', 'accepted', 'rejected', 'refused'))
);
