-- Per expert and project, how many rubric grades they gave and how many were flat (every criterion
-- the same score): the straight-lining test (domain/straight_lining.py) weighs an expert's share
-- against the other graders'. Kept as running counts, like position_stats, so the test reads
-- one row per grader instead of every grade in the project.
CREATE TABLE grading_stats (
    project_id uuid NOT NULL,
    expert_id  text NOT NULL,
    graded     integer NOT NULL,
    flat       integer NOT NULL,
    PRIMARY KEY (project_id, expert_id)
);
