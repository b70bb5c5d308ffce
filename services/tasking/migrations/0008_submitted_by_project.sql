-- The workbench shows experts how long a project's tasks typically take: the median tracked time of
-- its latest submissions. This index keeps that read to the newest few rows of one project.
CREATE INDEX assignments_submitted_by_project ON assignments (project_id, acquire_time DESC) WHERE state = 'submitted';
