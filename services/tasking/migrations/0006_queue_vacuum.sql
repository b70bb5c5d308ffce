-- The slot queue's head is where every acquire starts: leasing a slot leaves its entry in the
-- open-slots index dead, and by default autovacuum cleans a table only after a fifth of its rows
-- changed (30,000 slots of a 150,000-slot project). Until then each acquire walked the dead
-- entries at the head: 89 buffers for its slot search, measured over a 60 s platform benchmark
-- at ~280 leases/s. A fixed threshold vacuums the queue every few thousand leases instead.
ALTER TABLE slots SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 5000);
