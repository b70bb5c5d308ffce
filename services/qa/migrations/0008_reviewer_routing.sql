-- Reviewers are routed like experts (domain/reviewer_routing.py): QA keeps what tasking publishes
-- about each person (ExpertProfileChanged, latest change wins) and each project's qualifications.
-- Projects activated before this migration carry no degree, field or language requirement.
CREATE TABLE reviewer_profiles (
    expert_id       text PRIMARY KEY,
    degree          integer NOT NULL,
    fields          text[] NOT NULL,
    languages       text[] NOT NULL,
    blocked_lab_ids uuid[] NOT NULL,
    reviewer        boolean NOT NULL,
    active          boolean NOT NULL,
    changed_at      timestamptz NOT NULL
);

ALTER TABLE projects
    ADD COLUMN min_degree integer NOT NULL DEFAULT 0,
    ADD COLUMN fields     text[] NOT NULL DEFAULT '{}',
    ADD COLUMN languages  text[] NOT NULL DEFAULT '{}';
