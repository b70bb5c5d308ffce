"""Forgetting inbox rows received before the retention, on a real PostgreSQL: only those, in
batches, and the ids inside the retention still stop a redelivery."""

from __future__ import annotations

from cohort_runtime.inbox_retention import purge_inbox

from .helpers import migrated_pool


async def test_only_rows_received_before_the_retention_are_forgotten(database_url, schema):
    pool = await migrated_pool(database_url, schema)
    try:
        await pool.execute(
            """INSERT INTO inbox (consumer, event_id, event_type, topic, partition, "offset", outcome, received_at)
               SELECT 'c', 'e' || g, 't', 'topic', 0, g, 'processed',
                      now() - make_interval(days => g) + interval '12 hours'
               FROM generate_series(1, 25) AS g"""
        )
        # 14 days: rows 14.5..24.5 days old go, in batches of 4 (three full ones, then a short one).
        assert await purge_inbox(pool, 14 * 86400, batch=4) == 11
        left = {r["event_id"] for r in await pool.fetch("SELECT event_id FROM inbox")}
        assert left == {f"e{g}" for g in range(1, 15)}
        claimed = await pool.fetchval(
            """INSERT INTO inbox (consumer, event_id, event_type, topic, partition, "offset", outcome)
               VALUES ('c', 'e3', 't', 'topic', 0, 3, 'processed') ON CONFLICT DO NOTHING RETURNING event_id"""
        )
        assert claimed is None, "an id inside the retention still stops a redelivery"
        assert await purge_inbox(pool, 14 * 86400) == 0
    finally:
        await pool.close()
