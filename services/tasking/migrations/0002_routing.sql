-- Experts: pseudonymous ids only; routing needs no names or contact details.
CREATE TABLE experts (
    expert_id       text PRIMARY KEY,
    degree          integer NOT NULL,
    fields          text[] NOT NULL,
    skills          text[] NOT NULL,
    languages       text[] NOT NULL,
    country         text NOT NULL,
    timezone        text NOT NULL,
    weekly_hours    integer NOT NULL,
    blocked_lab_ids uuid[] NOT NULL,
    reviewer        boolean NOT NULL,
    status          text NOT NULL CHECK (status IN ('active', 'suspended', 'offboarded')),
    create_time     timestamptz NOT NULL,
    update_time     timestamptz NOT NULL
);

CREATE TABLE cohort_members (
    cohort_id text NOT NULL,
    expert_id text NOT NULL REFERENCES experts (expert_id),
    PRIMARY KEY (cohort_id, expert_id)
);
CREATE INDEX cohort_members_by_expert ON cohort_members (expert_id);

-- The routing-relevant copy of each project, fed by cohort.intake.projects.v1.
CREATE TABLE projects (
    project_id            uuid PRIMARY KEY,
    lab_id                uuid NOT NULL,
    state                 text NOT NULL CHECK (state IN ('active', 'paused', 'cancelled', 'completed')),
    activated             bytea NOT NULL,   -- the ProjectActivated event, serialized
    update_time           timestamptz NOT NULL
);

-- Tasks as experts see them (never a gold reference: tasking does not receive them).
CREATE TABLE tasks (
    project_id uuid NOT NULL,
    task_id    text NOT NULL,
    input      bytea NOT NULL,          -- cohort.types.v1.TaskInput, serialized
    is_gold    boolean NOT NULL,
    finalized  boolean NOT NULL DEFAULT false,
    PRIMARY KEY (project_id, task_id)
);

-- One row per (task, independent expert) place. `started` is set on every slot of a task once
-- any of them is leased: routing prefers started tasks, finishing items before starting new ones.
CREATE TABLE slots (
    slot_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id uuid NOT NULL,
    task_id    text NOT NULL,
    is_gold    boolean NOT NULL,
    open       boolean NOT NULL DEFAULT true,
    started    boolean NOT NULL DEFAULT false
);
CREATE INDEX slots_queue ON slots (project_id, is_gold, started DESC, slot_id) WHERE open;
CREATE INDEX slots_by_task ON slots (project_id, task_id);

-- Per-expert, per-domain quality from QA (expert quality updated events).
CREATE TABLE expert_quality (
    expert_id text NOT NULL,
    domain    text NOT NULL,
    mean      double precision NOT NULL,
    PRIMARY KEY (expert_id, domain)
);

CREATE TABLE assignments (
    assignment_id  uuid PRIMARY KEY,
    slot_id        bigint NOT NULL REFERENCES slots (slot_id),
    expert_id      text NOT NULL REFERENCES experts (expert_id),
    project_id     uuid NOT NULL,
    task_id        text NOT NULL,
    state          text NOT NULL CHECK (state IN ('active', 'submitted', 'released', 'expired')),
    acquire_time   timestamptz NOT NULL,
    expire_time    timestamptz NOT NULL,
    last_beat      timestamptz NOT NULL,
    active_seconds integer NOT NULL DEFAULT 0
);
CREATE INDEX assignments_live ON assignments (expire_time) WHERE state = 'active';
CREATE INDEX assignments_by_expert ON assignments (expert_id, acquire_time DESC, assignment_id);
-- At most one live lease per slot, whatever the code does.
CREATE UNIQUE INDEX one_live_lease_per_slot ON assignments (slot_id) WHERE state = 'active';

-- Tasks an expert has held (independence: never two slots of one task for one expert).
CREATE TABLE expert_tasks (
    expert_id  text NOT NULL,
    project_id uuid NOT NULL,
    task_id    text NOT NULL,
    PRIMARY KEY (expert_id, project_id, task_id)
);

CREATE TABLE expert_project_counts (
    expert_id   text NOT NULL,
    project_id  uuid NOT NULL,
    submissions integer NOT NULL DEFAULT 0,
    PRIMARY KEY (expert_id, project_id)
);

CREATE TABLE submissions (
    submission_id  uuid PRIMARY KEY,
    assignment_id  uuid NOT NULL UNIQUE REFERENCES assignments (assignment_id),
    expert_id      text NOT NULL,
    project_id     uuid NOT NULL,
    task_id        text NOT NULL,
    payload        bytea NOT NULL,      -- cohort.types.v1.SubmissionPayload, serialized
    submit_time    timestamptz NOT NULL,
    active_seconds integer NOT NULL
);
