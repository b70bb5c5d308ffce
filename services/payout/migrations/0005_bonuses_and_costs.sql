-- When a submission was decided (bonus periods select by it), which lab a project belongs to (labs
-- read their own projects' cost), and the quality-bonus periods already closed with their rule.
ALTER TABLE submissions ADD COLUMN decided_at timestamptz;
CREATE INDEX submissions_decided ON submissions (decided_at) WHERE decided_at IS NOT NULL;
ALTER TABLE rate_cards ADD COLUMN lab_id uuid;

CREATE TABLE bonus_periods (
    period_id   text PRIMARY KEY,
    start_time  timestamptz NOT NULL,
    end_time    timestamptz NOT NULL,
    currency    char(3) NOT NULL,
    bonus_bps   integer NOT NULL,
    top_share   double precision NOT NULL,
    min_decided integer NOT NULL,
    closed_at   timestamptz NOT NULL
);
