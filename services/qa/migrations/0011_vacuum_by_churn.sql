-- Submissions change state after arrival (waiting → accepted/rejected, reviews) and tasks are
-- finalized: dead rows on every cycle, in tables that grow with the finished history. Vacuum and
-- analyze after a fixed number of dead rows rather than PostgreSQL's default 20 % of the table
-- (see tasking's migration 0014).
ALTER TABLE submissions SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 20000,
                             autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 20000);
ALTER TABLE tasks SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 20000,
                       autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 20000);
