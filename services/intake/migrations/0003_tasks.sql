-- A project's tasks. seq orders them as added (stable pagination); content_hash makes re-adding
-- an id idempotent. gold holds the known answer of gold tasks and is only ever sent to QA.
CREATE TABLE tasks (
    project_id   uuid NOT NULL REFERENCES projects (project_id),
    task_id      text NOT NULL,
    seq          bigint GENERATED ALWAYS AS IDENTITY,
    input        jsonb NOT NULL,
    gold         jsonb,
    content_hash text NOT NULL,
    create_time  timestamptz NOT NULL,
    PRIMARY KEY (project_id, task_id)
);
CREATE UNIQUE INDEX tasks_in_order ON tasks (project_id, seq);
