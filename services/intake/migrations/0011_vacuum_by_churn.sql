-- A task's row is updated when its first submission arrives: dead rows on every new task, in a
-- table that grows with the finished history. Vacuum and analyze after a fixed number of dead rows
-- rather than PostgreSQL's default 20 % of the table (see tasking's migration 0014).
ALTER TABLE tasks SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 20000,
                       autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 20000);
