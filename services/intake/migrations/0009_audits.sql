-- A lab's audits of delivered work (acceptance sampling, ISO 2859-1). Each delivered item belongs to
-- at most one audited lot (audit_lots' primary key), so a later audit takes only what was
-- delivered since; the sample and the lab's findings are audit_samples.
CREATE TABLE audits (
    audit_id          uuid PRIMARY KEY,
    lab_id            uuid NOT NULL REFERENCES labs (lab_id),
    request_id        uuid NOT NULL,
    project_id        uuid NOT NULL REFERENCES projects (project_id),
    aql_percent       double precision NOT NULL,
    lot_size          integer NOT NULL CHECK (lot_size >= 1),
    code_letter       text NOT NULL,
    sample_size       integer NOT NULL CHECK (sample_size BETWEEN 1 AND lot_size),
    acceptance_number integer NOT NULL CHECK (acceptance_number >= 0),
    rejection_number  integer NOT NULL CHECK (rejection_number = acceptance_number + 1),
    accepted_count    integer NOT NULL DEFAULT 0,
    rejected_count    integer NOT NULL DEFAULT 0,
    decision          text NOT NULL CHECK (decision IN ('pending', 'accepted', 'rejected')),
    create_time       timestamptz NOT NULL,
    decide_time       timestamptz,
    UNIQUE (lab_id, request_id)
);
CREATE INDEX audits_by_project ON audits (project_id, create_time DESC);

CREATE TABLE audit_lots (
    item_id  uuid PRIMARY KEY REFERENCES items (item_id),
    audit_id uuid NOT NULL REFERENCES audits (audit_id)
);

CREATE TABLE audit_samples (
    audit_id     uuid NOT NULL REFERENCES audits (audit_id),
    item_id      uuid NOT NULL REFERENCES items (item_id),
    task_id      text NOT NULL,
    finding      text CHECK (finding IN ('accepted', 'rejected')),
    reason       text NOT NULL DEFAULT '',
    finding_time timestamptz,
    -- A rejected item's dispute: pending at QA until QA's DisputeDecided comes back.
    dispute      text CHECK (dispute IN ('pending', 'upheld', 'dismissed')),
    qa_comments  text NOT NULL DEFAULT '',
    PRIMARY KEY (audit_id, item_id)
);
