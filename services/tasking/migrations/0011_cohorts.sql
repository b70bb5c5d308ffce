-- Cohorts become records with a name and a description, not only a tag on their members: an
-- operator creates one before adding experts, so a mistyped id is refused instead of silently
-- starting a second cohort. Cohorts that exist only as member tags today are carried over.
CREATE TABLE cohorts (
    cohort_id    text PRIMARY KEY,
    display_name text NOT NULL,
    description  text NOT NULL DEFAULT '',
    create_time  timestamptz NOT NULL DEFAULT now()
);

INSERT INTO cohorts (cohort_id, display_name)
SELECT DISTINCT cohort_id, cohort_id FROM cohort_members;

ALTER TABLE cohort_members
    ADD CONSTRAINT cohort_members_cohort_fk FOREIGN KEY (cohort_id) REFERENCES cohorts (cohort_id);
