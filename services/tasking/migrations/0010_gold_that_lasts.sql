-- Gold that lasts: a gold task is shown to each expert at most once but to any number of experts
-- (routines/acquire_slot.sql gives each gold lease a slot of its own). Gold tasks get no shared
-- slots any more; the open ones they had are closed (gold leases no longer use them).
UPDATE slots SET open = false WHERE open AND is_gold AND NOT is_screening;
CREATE INDEX tasks_gold ON tasks (project_id) WHERE is_gold AND NOT is_screening;
