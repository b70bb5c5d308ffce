-- The order tasking showed a submission's candidates in (a JSON array of candidate ids; empty for
-- inputs without candidates): QA's position-bias check compares an expert's choices with it.
ALTER TABLE submissions ADD COLUMN shown_order jsonb NOT NULL DEFAULT '[]';
