-- Progress counters per project, fed by the events intake consumes, and delivered items.
CREATE TABLE progress (
    project_id            uuid PRIMARY KEY REFERENCES projects (project_id),
    tasks_total           bigint NOT NULL DEFAULT 0,
    tasks_with_submission bigint NOT NULL DEFAULT 0,
    submissions_received  bigint NOT NULL DEFAULT 0,
    submissions_accepted  bigint NOT NULL DEFAULT 0,
    submissions_rejected  bigint NOT NULL DEFAULT 0,
    items_delivered       bigint NOT NULL DEFAULT 0,
    agreement_sum         double precision NOT NULL DEFAULT 0,
    confidence_sum        double precision NOT NULL DEFAULT 0,
    committed_minor       bigint NOT NULL DEFAULT 0,
    spent_minor           bigint NOT NULL DEFAULT 0,
    spend_as_of           timestamptz,
    update_time           timestamptz NOT NULL
);
INSERT INTO progress (project_id, tasks_total, update_time)
SELECT p.project_id, (SELECT count(*) FROM tasks t WHERE t.project_id = p.project_id), now() FROM projects p;

ALTER TABLE tasks ADD COLUMN has_submission boolean NOT NULL DEFAULT false;

-- Delivered items: the rendered JSON Lines record(s), ready to stream.
CREATE TABLE items (
    item_id      uuid PRIMARY KEY,
    project_id   uuid NOT NULL REFERENCES projects (project_id),
    task_id      text NOT NULL,
    seq          bigint GENERATED ALWAYS AS IDENTITY,
    record_json  text NOT NULL,
    deliver_time timestamptz NOT NULL
);
CREATE UNIQUE INDEX items_in_order ON items (project_id, seq);
