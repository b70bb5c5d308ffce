-- Rework after a lab's upheld dispute (QA's ReworkRequested): a finalized task is reopened at its
-- next revision for experts who never held it. Each slot belongs to one revision, so a late
-- ItemFinalized of an earlier revision closes only that revision's slots, adaptive overlap
-- counts only the current revision's slots, and a submission says which revision it answers.
ALTER TABLE tasks ADD COLUMN revision integer NOT NULL DEFAULT 1 CHECK (revision >= 1);
ALTER TABLE slots ADD COLUMN revision integer NOT NULL DEFAULT 1 CHECK (revision >= 1);
-- A completed project with rework to do is routed again ('active') until the rework is
-- finalized; then it is completed again. Intake's state for the lab stays completed.
ALTER TABLE projects ADD COLUMN reopened_for_rework boolean NOT NULL DEFAULT false;
-- The tasks under rework, found by project (few: only reopened tasks not yet finalized again).
CREATE INDEX tasks_in_rework ON tasks (project_id) WHERE revision > 1 AND NOT finalized;
