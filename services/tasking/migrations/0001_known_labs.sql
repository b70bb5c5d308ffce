-- Tasking's copy of labs, fed by cohort.intake.labs.v1 (LabCreated). Never read from intake's schema.
CREATE TABLE known_labs (
    lab_id       uuid PRIMARY KEY,
    display_name text NOT NULL,
    create_time  timestamptz NOT NULL
);
