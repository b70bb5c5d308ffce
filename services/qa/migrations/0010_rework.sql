-- Rework after an upheld dispute: a finalized task is reopened at its next revision. Only the
-- answers for the task's current revision are aggregated; each revision is an item of its own
-- (its own id), which records the item it supersedes.
ALTER TABLE tasks ADD COLUMN revision integer NOT NULL DEFAULT 1 CHECK (revision >= 1);
ALTER TABLE submissions ADD COLUMN revision integer NOT NULL DEFAULT 1 CHECK (revision >= 1);
ALTER TABLE items ADD COLUMN revision integer NOT NULL DEFAULT 1 CHECK (revision >= 1);
ALTER TABLE items ADD COLUMN supersedes uuid;
ALTER TABLE items DROP CONSTRAINT items_project_id_task_id_key;
ALTER TABLE items ADD CONSTRAINT items_one_per_revision UNIQUE (project_id, task_id, revision);
-- The revision an upheld dispute reopened its task at (0: none — dismissed, still open, or the
-- item was already superseded when QA decided).
ALTER TABLE disputes ADD COLUMN rework_revision integer NOT NULL DEFAULT 0;
