-- QA's quality estimates carry an as-of time (older updates never overwrite newer ones), and
-- suspensions per domain or per project.
ALTER TABLE expert_quality ADD COLUMN as_of timestamptz NOT NULL DEFAULT '-infinity';

CREATE TABLE suspensions (
    expert_id  text NOT NULL,
    scope      text NOT NULL,      -- 'domain:<domain>' or 'project:<uuid>'
    reasons    text[] NOT NULL,
    since      timestamptz NOT NULL,
    PRIMARY KEY (expert_id, scope)
);
