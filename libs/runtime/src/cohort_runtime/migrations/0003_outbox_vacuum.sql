-- Every outbox row is updated once (published_at) and deleted after the retention: a steady
-- stream of dead rows, many of them in the small partial index the relay reads unpublished rows
-- by. PostgreSQL's default autovacuum waits for dead rows worth 20 % of the table, so the longer
-- the retention and the busier the service, the more dead entries the relay walks past between
-- vacuums. Vacuum (and analyze) after a fixed number of dead rows instead, whatever the table's size.
ALTER TABLE outbox SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 20000,
                        autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 20000);
