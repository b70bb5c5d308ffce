-- The gold-exposure gauges counted each expert's gold by joining every task the experts of active
-- projects ever held to its task (600k rows: ~360 ms every 15 s, growing with the work done). An
-- expert_tasks row now says whether its task is gold (the acquire routine sets it), and a partial
-- index holds only those rows (about 1 % of them), so the gauges read only gold.
ALTER TABLE expert_tasks ADD COLUMN is_gold boolean NOT NULL DEFAULT false;
UPDATE expert_tasks e SET is_gold = true
FROM tasks t
WHERE t.project_id = e.project_id AND t.task_id = e.task_id AND t.is_gold AND NOT t.is_screening;
CREATE INDEX expert_tasks_gold ON expert_tasks (project_id, expert_id) WHERE is_gold;
-- The experts who handed in work in a project, found by project.
CREATE INDEX expert_project_counts_by_project ON expert_project_counts (project_id);
