-- Two costs that grew with the data, found by the platform benchmark.

-- Which tasks have had their slots made. Slots used to be made for "tasks without any slot" by an
-- anti-join of the project's tasks against its slots: its cost grew with the whole project on
-- every TasksAdded batch, and with statistics not yet caught up after a bulk insert PostgreSQL
-- planned it as a nested loop over a sequential scan of slots (50 s for a 30,000-task project
-- activated beside an earlier one, measured in the platform benchmark). A flag with a partial
-- index keeps the work proportional to the tasks not yet slotted, whatever the planner knows.
ALTER TABLE tasks ADD COLUMN slotted boolean NOT NULL DEFAULT false;
UPDATE tasks t SET slotted = true
WHERE EXISTS (SELECT 1 FROM slots s WHERE s.project_id = t.project_id AND s.task_id = t.task_id);
CREATE INDEX tasks_not_slotted ON tasks (project_id) WHERE NOT slotted;

-- An expert's live lease, looked up on every acquire (and by the cap check): through the
-- by-expert history index that walked all their past assignments (~100 pages per acquire after
-- 200 cycles each in the platform benchmark); live ones are few.
CREATE INDEX assignments_live_by_expert ON assignments (expert_id, project_id) WHERE state = 'active';
