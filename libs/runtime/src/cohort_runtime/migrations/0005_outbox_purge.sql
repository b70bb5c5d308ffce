-- The relay deletes rows published longer ago than the retention once a minute. Without an index
-- on published_at that was a scan of the whole outbox, a week of events: 0.5 s and 120k buffers a
-- minute per service with 3M rows, to delete a minute's worth. Rows are published moments after
-- they are written, so publish time rises with the table's physical order and a BRIN index finds
-- the old ones (0.7 ms, 20 buffers; docs/BENCHMARKS.md, "A year of history").
CREATE INDEX outbox_published ON outbox USING brin (published_at) WITH (pages_per_range = 32);
