-- Revisiting delivered items when an expert is suspended in a project (app/revisit.py).
-- What each item delivered, so that it can be compared with what its judgments say once a
-- suspended expert weighs nothing: {"ranking": [...]}, {"scores": {...}} or {"submission_id": ...}.
-- NULL for items finalized before this migration (they are compared with a fresh aggregation).
ALTER TABLE items ADD COLUMN result jsonb;
-- When the project's delivered items were revisited for this suspension; NULL: not yet. The
-- suspensions recorded before this migration are not revisited (their items were delivered and
-- audited under the old rules), so they count as revisited.
ALTER TABLE project_suspensions ADD COLUMN revisited_at timestamptz;
UPDATE project_suspensions SET revisited_at = as_of;
CREATE INDEX project_suspensions_unrevisited ON project_suspensions (project_id) WHERE revisited_at IS NULL;
