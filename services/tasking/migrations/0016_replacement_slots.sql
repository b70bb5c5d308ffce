-- A slot opened to replace an answer QA rejected. The maximum overlap counts the answers that can
-- stand: three spammers' rejected answers used to take three of a task's seven slots, and the task
-- was finalized on four judgments before anyone's estimate meant anything. Replacement slots go
-- beyond the maximum, up to twice it in a revision (cohort_tasking.domain.overlap). Adding a column
-- with a constant default rewrites nothing.
ALTER TABLE slots ADD COLUMN replaces_rejected boolean NOT NULL DEFAULT false;
