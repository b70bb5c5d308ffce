-- Customer labs. request_id makes CreateLab idempotent (AIP-155): a retry finds its lab here.
CREATE TABLE labs (
    lab_id              uuid PRIMARY KEY,
    display_name        text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
    create_time         timestamptz NOT NULL,
    request_id          uuid NOT NULL UNIQUE,
    request_fingerprint text NOT NULL
);
