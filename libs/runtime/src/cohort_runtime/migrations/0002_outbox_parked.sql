-- Outbox rows the broker refused for good (too large, invalid topic), and the rows of the same
-- topic and key that came after them: moved here so that every other key keeps flowing, while
-- the key's order is kept by holding its later rows back too. docs/runbooks.md says how to
-- inspect them and how to send them again.
CREATE TABLE outbox_parked (
    id            bigint PRIMARY KEY,            -- the outbox row's id, kept for ordering
    txid          xid8 NOT NULL,
    event_id      uuid NOT NULL UNIQUE,
    event_type    text NOT NULL,
    topic         text NOT NULL,
    key           bytea,
    payload       bytea NOT NULL,
    trace_context jsonb NOT NULL,
    created_at    timestamptz NOT NULL,
    parked_at     timestamptz NOT NULL DEFAULT now(),
    reason        text NOT NULL,
    -- The row whose refusal parked this one (itself for the refused row).
    blocked_by    uuid NOT NULL
);
CREATE INDEX outbox_parked_key ON outbox_parked (topic, key);
