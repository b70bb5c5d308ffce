-- The chassis's tables in every service schema: the transactional outbox and the idempotent inbox.

-- Events written in the same transaction as the state change they describe. txid orders rows by
-- the transaction that wrote them; the relay reads only rows whose transaction is older than every
-- transaction still running, so a row that commits late is never passed over.
CREATE TABLE outbox (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    txid          xid8 NOT NULL DEFAULT pg_current_xact_id(),
    event_id      uuid NOT NULL UNIQUE,
    event_type    text NOT NULL,
    topic         text NOT NULL,
    key           bytea,
    payload       bytea NOT NULL,
    trace_context jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (txid, id) WHERE published_at IS NULL;

-- Events this service has consumed, keyed by consumer and CloudEvents id: recorded in the same
-- transaction as the handler's effect, so a redelivery finds its row and has no second effect.
CREATE TABLE inbox (
    consumer     text NOT NULL,
    event_id     text NOT NULL,
    event_type   text NOT NULL,
    topic        text NOT NULL,
    partition    integer NOT NULL,
    "offset"     bigint NOT NULL,
    outcome      text NOT NULL CHECK (outcome IN ('processed', 'dead_lettered')),
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
