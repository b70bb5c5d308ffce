-- Lab API keys: only a SHA-256 of the whole key is stored; prefix finds the row.
CREATE TABLE api_keys (
    key_id       uuid PRIMARY KEY,
    lab_id       uuid NOT NULL REFERENCES labs (lab_id),
    prefix       text NOT NULL UNIQUE,
    secret_hash  bytea NOT NULL,
    display_name text NOT NULL,
    create_time  timestamptz NOT NULL,
    revoke_time  timestamptz
);
CREATE INDEX api_keys_by_lab ON api_keys (lab_id, create_time DESC);

-- Projects. spec is the normalised ProjectSpec as JSON; request_id makes CreateProject
-- idempotent per lab.
CREATE TABLE projects (
    project_id           uuid PRIMARY KEY,
    lab_id               uuid NOT NULL REFERENCES labs (lab_id),
    state                text NOT NULL CHECK (state IN ('draft', 'active', 'paused', 'completed', 'cancelled')),
    spec                 jsonb NOT NULL,
    instructions_version integer NOT NULL,
    rubric_version       integer NOT NULL,
    pause_reason         text NOT NULL DEFAULT '',
    create_time          timestamptz NOT NULL,
    update_time          timestamptz NOT NULL,
    request_id           uuid NOT NULL,
    request_fingerprint  text NOT NULL,
    UNIQUE (lab_id, request_id)
);
CREATE INDEX projects_by_lab ON projects (lab_id, create_time DESC, project_id DESC);
