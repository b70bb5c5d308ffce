-- Payout runs move payable balances to in transit, one payout per expert; the posting key
-- 'payout:<run>:<expert>' makes a rerun after a crash skip those already paid.
CREATE TABLE payout_runs (
    run_id       uuid PRIMARY KEY,
    request_id   uuid NOT NULL UNIQUE,
    currency     char(3) NOT NULL,
    cutoff       timestamptz NOT NULL,
    min_amount   bigint NOT NULL CHECK (min_amount >= 1),
    state        text NOT NULL CHECK (state IN ('running', 'completed')),
    create_time  timestamptz NOT NULL,
    complete_time timestamptz
);

CREATE TABLE payouts (
    run_id     uuid NOT NULL REFERENCES payout_runs (run_id),
    expert_id  text NOT NULL,
    amount     bigint NOT NULL CHECK (amount > 0),
    state      text NOT NULL CHECK (state IN ('in_transit', 'settled', 'failed')),
    reason     text NOT NULL DEFAULT '',
    PRIMARY KEY (run_id, expert_id)
);

-- Who a run pays and how much, fixed in the transaction that creates the run: a resumed run
-- works through the same list, in expert order, skipping those already paid.
CREATE TABLE run_candidates (
    run_id    uuid NOT NULL REFERENCES payout_runs (run_id),
    expert_id text NOT NULL,
    amount    bigint NOT NULL,
    PRIMARY KEY (run_id, expert_id)
);
