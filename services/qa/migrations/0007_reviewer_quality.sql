-- How often each reviewer's verdict is right, per domain (domain/reviewer_quality.py): evidence
-- from reviews of gold-scored work and from double reviews, with the posterior kept beside it.
CREATE TABLE reviewer_quality (
    reviewer_id text NOT NULL,
    domain      text NOT NULL,
    successes   double precision NOT NULL DEFAULT 0,
    failures    double precision NOT NULL DEFAULT 0,
    pieces      integer NOT NULL DEFAULT 0,
    mean        double precision NOT NULL DEFAULT 0.8,
    lower       double precision NOT NULL DEFAULT 0,
    upper       double precision NOT NULL DEFAULT 1,
    as_of       timestamptz,
    PRIMARY KEY (reviewer_id, domain)
);
