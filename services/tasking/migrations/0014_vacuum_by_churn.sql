-- The acquire routine reads the front of the slot queue (a partial index of open slots, consumed
-- from its start) and probes the tasks the expert held (expert_tasks, index-only when the table's
-- pages are marked all-visible). Both stay cheap only if vacuum keeps up: dead queue entries pile
-- up at the front until vacuumed, and rows inserted since the last vacuum cost a heap visit each.
-- PostgreSQL's default autovacuum waits for dead (or inserted) rows worth 20 % of the table, which
-- grows with the finished history: after a million cycles the slot queue would wait for ~235k dead
-- rows instead of ~25k on a fresh database (docs/BENCHMARKS.md, "A year of history"). Vacuum and
-- analyze after a fixed number of changed rows instead, whatever the table's size.
ALTER TABLE slots SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 20000,
                       autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 20000,
                       autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 20000);
ALTER TABLE assignments SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 20000,
                             autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 20000,
                             autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 20000);
ALTER TABLE expert_tasks SET (autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 20000,
                              autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 20000);
ALTER TABLE tasks SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 20000,
                       autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 20000);
