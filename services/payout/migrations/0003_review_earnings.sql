-- Completed reviews, each paid the project's review rate once; 'waiting' until the project's
-- rate card is known (the review event may arrive before ProjectActivated).
CREATE TABLE review_earnings (
    review_id   uuid PRIMARY KEY,
    project_id  uuid NOT NULL,
    reviewer_id text NOT NULL,
    state       text NOT NULL CHECK (state IN ('waiting', 'posted'))
);
CREATE INDEX review_earnings_waiting ON review_earnings (project_id) WHERE state = 'waiting';
