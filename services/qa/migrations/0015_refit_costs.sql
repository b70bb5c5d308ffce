-- What a refit reads grows with its project; two columns keep its cost per judgment flat.
-- Each task's candidate ids in the lab's order (the classes of the Dawid-Skene fit), kept beside
-- the input so that a refit need not read and parse every judged task's whole input (at 29k
-- judgments that was half the refit's second). NULL for tasks stored before: read from the input.
ALTER TABLE tasks ADD COLUMN candidate_ids text[];
-- How long the project's last refit took: the next waits at least 19 times as long, so refits
-- take at most a twentieth of the time whatever the project's size (app/models.py).
ALTER TABLE project_models ADD COLUMN fit_seconds double precision NOT NULL DEFAULT 0;
