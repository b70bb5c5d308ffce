-- Qualification screening: a project's screening test, the experts' scored answers, and the
-- decisions (one per expert and project).
ALTER TABLE projects ADD COLUMN screening_tasks integer NOT NULL DEFAULT 0;
ALTER TABLE projects ADD COLUMN screening_pass_share double precision NOT NULL DEFAULT 0;

CREATE TABLE screening_answers (
    submission_id uuid PRIMARY KEY,
    project_id    uuid NOT NULL,
    expert_id     text NOT NULL,
    task_id       text NOT NULL,
    payload       bytea NOT NULL,       -- cohort.types.v1.SubmissionPayload, serialized
    correct       boolean,              -- NULL until the project and the task's gold are known
    received_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX screening_answers_unscored ON screening_answers (project_id) WHERE correct IS NULL;
CREATE INDEX screening_answers_by_expert ON screening_answers (project_id, expert_id);

CREATE TABLE qualifications (
    project_id  uuid NOT NULL,
    expert_id   text NOT NULL,
    passed      boolean NOT NULL,
    correct     integer NOT NULL,
    answered    integer NOT NULL,
    decided_at  timestamptz NOT NULL,
    PRIMARY KEY (project_id, expert_id)
);
