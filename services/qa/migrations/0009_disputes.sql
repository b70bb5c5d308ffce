-- Items labs reject in their audits (intake's ItemDisputed), and QA staff's decision on each.
CREATE TABLE disputes (
    item_id      uuid PRIMARY KEY,
    project_id   uuid NOT NULL,
    task_id      text NOT NULL,
    audit_id     uuid NOT NULL,
    lab_reason   text NOT NULL,
    state        text NOT NULL CHECK (state IN ('open', 'upheld', 'dismissed')),
    comments     text NOT NULL DEFAULT '',
    decided_by   text NOT NULL DEFAULT '',
    dispute_time timestamptz NOT NULL,
    decide_time  timestamptz
);
CREATE INDEX disputes_by_state ON disputes (state, dispute_time);
