-- QA's own state: the projects and tasks it judges, every submission and its verdict, the review
-- queue, expert quality evidence, finalized items and the per-project reliability model.

CREATE TABLE projects (
    project_id           uuid PRIMARY KEY,
    lab_id               uuid NOT NULL,
    data_kind            text NOT NULL,
    domain               text NOT NULL,
    overlap              integer NOT NULL CHECK (overlap >= 1),
    max_overlap          integer NOT NULL,
    review_sample_rate   double precision NOT NULL,
    minimum_quality      double precision NOT NULL,
    -- [{"name", "weight", "scale_min", "scale_max"}], in rubric order.
    criteria             jsonb NOT NULL,
    rubric_version       integer NOT NULL,
    instructions_version integer NOT NULL,
    state                text NOT NULL DEFAULT 'active',
    updated_at           timestamptz NOT NULL DEFAULT now()
);

-- What experts saw (for the copy checks and the reviewers) and, for gold tasks, the known answer.
-- A row may exist with neither when a submission arrives first; target_overlap is raised by
-- adaptive overlap (NULL: the project's overlap).
CREATE TABLE tasks (
    project_id     uuid NOT NULL,
    task_id        text NOT NULL,
    input          bytea,
    is_gold        boolean NOT NULL DEFAULT false,
    gold           bytea,
    target_overlap integer,
    finalized_at   timestamptz,
    PRIMARY KEY (project_id, task_id)
);

-- seq orders submissions as QA received them: a near-duplicate is the later of two.
CREATE TABLE submissions (
    seq            bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    submission_id  uuid PRIMARY KEY,
    project_id     uuid NOT NULL,
    task_id        text NOT NULL,
    expert_id      text NOT NULL,
    payload        bytea NOT NULL,
    is_gold        boolean NOT NULL,
    active_seconds integer NOT NULL,
    submit_time    timestamptz NOT NULL,
    -- waiting: the project is not known yet; in_review: a reviewer decides.
    state          text NOT NULL CHECK (state IN ('waiting', 'in_review', 'accepted', 'rejected')),
    reasons        text[] NOT NULL DEFAULT '{}',
    gold_outcome   text CHECK (gold_outcome IN ('correct', 'incorrect')),
    -- Denormalised for agreement and model fits without decoding payloads.
    top_choice     text,
    scores         jsonb,
    signature      bytea,
    received_at    timestamptz NOT NULL DEFAULT now(),
    decided_at     timestamptz
);
CREATE INDEX submissions_task ON submissions (project_id, task_id);
CREATE INDEX submissions_expert ON submissions (expert_id, project_id);
CREATE INDEX submissions_waiting ON submissions (project_id) WHERE state = 'waiting';

-- LSH index of MinHash signatures: one row per band; equal keys name near-duplicate candidates.
CREATE TABLE submission_bands (
    project_id    uuid NOT NULL,
    band          smallint NOT NULL,
    key           bigint NOT NULL,
    seq           bigint NOT NULL,
    submission_id uuid NOT NULL
);
CREATE INDEX submission_bands_key ON submission_bands (project_id, band, key);

-- Position-bias evidence per expert and project: how often the first-shown candidate was chosen.
CREATE TABLE position_stats (
    expert_id     text NOT NULL,
    project_id    uuid NOT NULL,
    judgments     integer NOT NULL,
    first_choices integer NOT NULL,
    candidates    integer NOT NULL,
    PRIMARY KEY (expert_id, project_id)
);

-- slot 0 decides the submission; slot 1 (a share of reviewed work) is a calibration review by
-- another reviewer, for reviewer agreement.
CREATE TABLE reviews (
    review_id      uuid PRIMARY KEY,
    submission_id  uuid NOT NULL REFERENCES submissions (submission_id),
    project_id     uuid NOT NULL,
    task_id        text NOT NULL,
    slot           smallint NOT NULL CHECK (slot IN (0, 1)),
    reasons        text[] NOT NULL,
    state          text NOT NULL CHECK (state IN ('open', 'leased', 'done')),
    reviewer_id    text,
    lease_until    timestamptz,
    scores         jsonb,
    weighted_total double precision,
    verdict        text CHECK (verdict IN ('accept', 'reject')),
    comments       text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    done_at        timestamptz,
    UNIQUE (submission_id, slot)
);
CREATE INDEX reviews_pending ON reviews (slot, created_at) WHERE state <> 'done';
CREATE INDEX reviews_reviewer ON reviews (reviewer_id, submission_id);

-- Quality evidence per expert and domain (weighted successes/failures) and its Beta estimate.
CREATE TABLE expert_quality (
    expert_id  text NOT NULL,
    domain     text NOT NULL,
    successes  double precision NOT NULL,
    failures   double precision NOT NULL,
    pieces     integer NOT NULL,
    mean       double precision NOT NULL DEFAULT 0.75,
    lower      double precision NOT NULL DEFAULT 0,
    upper      double precision NOT NULL DEFAULT 1,
    suspended  boolean NOT NULL DEFAULT false,
    as_of      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (expert_id, domain)
);

CREATE TABLE project_suspensions (
    expert_id  text NOT NULL,
    project_id uuid NOT NULL,
    reasons    text[] NOT NULL,
    as_of      timestamptz NOT NULL,
    PRIMARY KEY (expert_id, project_id)
);

CREATE TABLE items (
    item_id      uuid PRIMARY KEY,
    project_id   uuid NOT NULL,
    task_id      text NOT NULL,
    agreement    double precision NOT NULL,
    confidence   double precision NOT NULL,
    finalized_at timestamptz NOT NULL,
    UNIQUE (project_id, task_id)
);

-- The project's last Dawid–Skene fit over its categorical judgments: class priors and a confusion
-- matrix per expert (row-major, classes x classes), the warm start of item aggregation.
CREATE TABLE project_models (
    project_id uuid PRIMARY KEY,
    classes    integer NOT NULL,
    priors     double precision[] NOT NULL,
    judgments  integer NOT NULL,
    fitted_at  timestamptz NOT NULL
);
CREATE TABLE expert_confusion (
    project_id uuid NOT NULL,
    expert_id  text NOT NULL,
    matrix     double precision[] NOT NULL,
    PRIMARY KEY (project_id, expert_id)
);
