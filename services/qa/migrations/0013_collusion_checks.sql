-- When each rubric project was last tested for pairs who grade alike (domain/collusion.py,
-- identical_suspects) and on how many decided answers: the background pass tests a project again
-- once it has 50 more, as it refits preference projects (project_models.judgments).
CREATE TABLE collusion_checks (
    project_id uuid PRIMARY KEY,
    answers    integer NOT NULL,
    checked_at timestamptz NOT NULL
);
