-- The expert pseudonyms each lab has been shown (cohort_runtime.pseudonyms), so that an operator
-- can map one back to its expert; written when an item carrying it is stored.
CREATE TABLE expert_pseudonyms (
    lab_id     uuid NOT NULL,
    pseudonym  text NOT NULL,
    expert_id  text NOT NULL,
    PRIMARY KEY (lab_id, pseudonym)
);
