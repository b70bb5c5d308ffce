-- The workbench's own identity store: the only place that knows how an expert signs in. No other
-- service reads it; tasking knows the same expert only by their pseudonymous id.

-- One account per expert. The sign-in name is chosen by the expert when they accept the
-- invitation; the password is stored as an argon2id hash only.
CREATE TABLE accounts (
    expert_id      text PRIMARY KEY,
    sign_in_name   text NOT NULL UNIQUE,
    password_hash  text NOT NULL,
    roles          text[] NOT NULL DEFAULT '{}',
    -- Base32 TOTP secret once enrolment is confirmed (NULL: no second factor).
    totp_secret    text,
    -- The last TOTP time step accepted: a code is good once (RFC 6238 §5.2).
    totp_last_step bigint,
    create_time    timestamptz NOT NULL,
    update_time    timestamptz NOT NULL
);

-- One-time invitation links: only a hash of the secret is kept, so a database reader cannot use one.
CREATE TABLE invitations (
    token_hash  bytea PRIMARY KEY,
    expert_id   text NOT NULL,
    roles       text[] NOT NULL,
    invited_by  text NOT NULL,
    create_time timestamptz NOT NULL,
    expire_time timestamptz NOT NULL,
    use_time    timestamptz
);
CREATE INDEX invitations_by_expert ON invitations (expert_id) WHERE use_time IS NULL;

-- Server-side sessions, keyed by a hash of the cookie's value (the cookie alone opens a session).
CREATE TABLE sessions (
    id_hash         bytea PRIMARY KEY,
    expert_id       text NOT NULL REFERENCES accounts (expert_id),
    csrf_token      text NOT NULL,
    create_time     timestamptz NOT NULL,
    last_seen_time  timestamptz NOT NULL,
    -- Idle expiry moves with use; the absolute one never does.
    idle_expire_time timestamptz NOT NULL,
    expire_time     timestamptz NOT NULL
);
CREATE INDEX sessions_by_expert ON sessions (expert_id);
CREATE INDEX sessions_expiry ON sessions (expire_time);

-- Failed sign-ins per account and per client address, shared by every replica: the counter of the
-- current window and, once over the limit, when the key may try again.
CREATE TABLE sign_in_failures (
    key          text PRIMARY KEY,
    failures     integer NOT NULL,
    window_start timestamptz NOT NULL,
    locked_until timestamptz
);

-- Leases taken through the workbench, as tasking returned them (the task's input included), so a
-- reload shows the task again without leasing another.
CREATE TABLE leases (
    assignment_id uuid PRIMARY KEY,
    expert_id     text NOT NULL,
    assignment    bytea NOT NULL,   -- cohort.tasking.v1.Assignment
    display_order text[] NOT NULL,  -- candidate ids in the order this expert is shown them
    create_time   timestamptz NOT NULL
);
CREATE INDEX leases_by_expert ON leases (expert_id, create_time DESC);

-- Autosaved drafts: what the expert typed, by form field, until the work is handed in.
CREATE TABLE drafts (
    assignment_id uuid PRIMARY KEY REFERENCES leases (assignment_id) ON DELETE CASCADE,
    expert_id     text NOT NULL,
    fields        jsonb NOT NULL,
    update_time   timestamptz NOT NULL
);

-- Reviews leased through the workbench, as QA returned them, so a reload shows the review again.
CREATE TABLE review_leases (
    review_id   uuid PRIMARY KEY,
    expert_id   text NOT NULL,
    review      bytea NOT NULL,      -- cohort.qa.v1.Review
    create_time timestamptz NOT NULL
);
CREATE INDEX review_leases_by_expert ON review_leases (expert_id, create_time DESC);
