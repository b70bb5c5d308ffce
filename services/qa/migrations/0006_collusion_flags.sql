-- Expert pairs whose agreement their skill cannot explain (domain/collusion.py), per project, for
-- an operator to review; both experts are suspended in the project when a pair is flagged.
CREATE TABLE collusion_flags (
    project_id uuid NOT NULL,
    expert_a   text NOT NULL,
    expert_b   text NOT NULL,
    shared     integer NOT NULL,
    agreed     integer NOT NULL,
    expected   double precision NOT NULL,
    p_value    double precision NOT NULL,
    flagged_at timestamptz NOT NULL,
    PRIMARY KEY (project_id, expert_a, expert_b)
);
