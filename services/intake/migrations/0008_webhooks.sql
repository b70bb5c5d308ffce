-- Webhook endpoints a lab registers, and the deliveries to them. A delivery row is written in the
-- transaction that makes the change it reports (an item stored, a project completed), so nothing
-- is announced that did not commit and nothing that committed is lost; the dispatcher sends rows
-- whose next attempt is due and records each attempt.
CREATE TABLE webhook_endpoints (
    endpoint_id        uuid PRIMARY KEY,
    lab_id             uuid NOT NULL REFERENCES labs (lab_id),
    url                text NOT NULL,
    event_types        text[] NOT NULL,
    description        text NOT NULL DEFAULT '',
    state              text NOT NULL CHECK (state IN ('active', 'disabled', 'failing')),
    failing_reason     text NOT NULL DEFAULT '',
    secret             text NOT NULL,
    previous_secret    text,
    previous_until     timestamptz,
    create_time        timestamptz NOT NULL,
    update_time        timestamptz NOT NULL
);
CREATE INDEX webhook_endpoints_by_lab ON webhook_endpoints (lab_id, create_time);

CREATE TABLE webhook_deliveries (
    delivery_id        uuid PRIMARY KEY,
    message_id         text NOT NULL,
    endpoint_id        uuid NOT NULL REFERENCES webhook_endpoints (endpoint_id) ON DELETE CASCADE,
    event_type         text NOT NULL,
    payload            text NOT NULL,
    state              text NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts           integer NOT NULL DEFAULT 0,
    next_attempt_at    timestamptz,
    last_status        integer NOT NULL DEFAULT 0,
    last_error         text NOT NULL DEFAULT '',
    last_latency_ms    double precision,
    create_time        timestamptz NOT NULL,
    deliver_time       timestamptz
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, create_time DESC, delivery_id DESC);
