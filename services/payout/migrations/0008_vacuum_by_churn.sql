-- A submission's row is updated as its facts arrive, and every posting updates its accounts'
-- materialised balances: dead rows on every cycle, in tables that grow with the history (every
-- expert and project keeps its accounts). Vacuum and analyze after a fixed number of dead rows
-- rather than PostgreSQL's default 20 % of the table (see tasking's migration 0014).
ALTER TABLE submissions SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 20000,
                             autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 20000);
ALTER TABLE accounts SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 5000,
                          autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 20000);
