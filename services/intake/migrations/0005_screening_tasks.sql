-- Screening tasks make up a project's qualification test: gold tasks served only to experts
-- taking the test, never delivered.
ALTER TABLE tasks ADD COLUMN screening boolean NOT NULL DEFAULT false;
