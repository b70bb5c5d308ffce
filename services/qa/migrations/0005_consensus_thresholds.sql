-- A project's own consensus thresholds (ProjectActivated.consensus); NULL takes QA's default.
ALTER TABLE projects
    ADD COLUMN min_confidence double precision,
    ADD COLUMN min_rubric_agreement double precision,
    ADD COLUMN rubric_tolerance double precision;
