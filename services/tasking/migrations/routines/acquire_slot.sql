-- Re-applied on every migrate (CREATE OR REPLACE): edit it here; migration 0004 created the
-- first version and stays as applied. Its eligibility re-checks must agree with
-- cohort_tasking.domain.routing (tests/integration/test_acquire_rules.py checks that they do).
--
-- Acquisition in one statement: the hot path makes one round trip instead of about ten.
--
-- The caller passes the projects the expert qualifies for by profile, in routing order (the domain
-- rules decide that, from a per-expert list cached for about a second), each with whether to try
-- gold first, the per-expert cap, the lease time, the domain, the screening test's size and the
-- minimum quality. This function re-checks at the moment of leasing what must never be stale: the
-- expert is registered and active, holds no live lease (a retried call gets that lease back), the
-- project is still active, no suspension covers it, QA is not confident they are below the minimum
-- quality in the domain (the upper bound of its interval, p_prior when unmeasured: QA's estimates
-- change with every judgment), the cap is not
-- reached. An expert without a screening decision is served the test's tasks first (p_screening
-- answers, 0 for no test), one who failed nothing. Then it claims the first open slot (SKIP LOCKED,
-- started tasks first, never a task the expert held) or, for gold, a slot of the lease's own on a
-- gold task the expert never held, and makes the lease, in one transaction.
--
-- outcome: 'unregistered' | 'inactive' (status in `status`) | 'live' (the existing lease) |
--          'leased' (a new lease) | 'none' (nothing for this expert now).
CREATE OR REPLACE FUNCTION acquire_slot(
    p_expert      text,
    p_projects    uuid[],
    p_gold_first  boolean[],
    p_caps        integer[],
    p_leases      interval[],
    p_domains     text[],
    p_screening   integer[],
    p_min_quality double precision[],
    p_prior       double precision,
    p_assignment  uuid,
    p_now         timestamptz
) RETURNS TABLE (
    outcome       text,
    status        text,
    assignment_id uuid,
    slot_id       bigint,
    project_id    uuid,
    task_id       text,
    acquire_time  timestamptz,
    expire_time   timestamptz,
    last_beat     timestamptz,
    active_seconds integer,
    input         bytea
)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_status text;
    v_live   assignments%ROWTYPE;
    v_slot   bigint;
    v_task   text;
    v_gold   boolean;
    v_held   bigint;
    v_passed boolean;
    i        integer;
BEGIN
    -- Locking the expert serialises their own concurrent calls.
    SELECT e.status INTO v_status FROM experts e WHERE e.expert_id = p_expert FOR UPDATE;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'unregistered', NULL::text, NULL::uuid, NULL::bigint, NULL::uuid, NULL::text,
            NULL::timestamptz, NULL::timestamptz, NULL::timestamptz, NULL::integer, NULL::bytea;
        RETURN;
    END IF;
    IF v_status <> 'active' THEN
        RETURN QUERY SELECT 'inactive', v_status, NULL::uuid, NULL::bigint, NULL::uuid, NULL::text,
            NULL::timestamptz, NULL::timestamptz, NULL::timestamptz, NULL::integer, NULL::bytea;
        RETURN;
    END IF;

    SELECT * INTO v_live FROM assignments a
    WHERE a.expert_id = p_expert AND a.state = 'active' AND a.expire_time > p_now
    ORDER BY a.acquire_time DESC LIMIT 1;
    IF FOUND THEN
        RETURN QUERY SELECT 'live', v_status, v_live.assignment_id, v_live.slot_id, v_live.project_id,
            v_live.task_id, v_live.acquire_time, v_live.expire_time, v_live.last_beat, v_live.active_seconds,
            t.input
        FROM tasks t WHERE t.project_id = v_live.project_id AND t.task_id = v_live.task_id;
        RETURN;
    END IF;

    FOR i IN 1 .. coalesce(array_length(p_projects, 1), 0) LOOP
        CONTINUE WHEN NOT EXISTS (
            SELECT 1 FROM projects p WHERE p.project_id = p_projects[i] AND p.state = 'active');
        CONTINUE WHEN EXISTS (
            SELECT 1 FROM suspensions s WHERE s.expert_id = p_expert
              AND s.scope IN ('domain:' || p_domains[i], 'project:' || p_projects[i]::text));
        -- QA's estimate moves with every judgment: gate on the stored one, never a cached one.
        CONTINUE WHEN coalesce((SELECT q.upper FROM expert_quality q
                                WHERE q.expert_id = p_expert AND q.domain = p_domains[i]), p_prior)
                      < p_min_quality[i];
        IF p_caps[i] > 0 THEN
            SELECT coalesce((SELECT c.submissions FROM expert_project_counts c
                             WHERE c.expert_id = p_expert AND c.project_id = p_projects[i]), 0)
                 + (SELECT count(*) FROM assignments a
                    WHERE a.expert_id = p_expert AND a.project_id = p_projects[i] AND a.state = 'active')
              INTO v_held;
            CONTINUE WHEN v_held >= p_caps[i];
        END IF;
        v_slot := NULL;
        IF p_screening[i] > 0 THEN
            SELECT q.passed INTO v_passed FROM qualifications q
            WHERE q.expert_id = p_expert AND q.project_id = p_projects[i];
            CONTINUE WHEN FOUND AND NOT v_passed;
            IF NOT FOUND THEN
                -- Taking the test: the next screening task this expert has not held (in an order
                -- of their own), until they have answered enough; then QA's decision is awaited.
                SELECT coalesce((SELECT c.screening_submissions FROM expert_project_counts c
                                 WHERE c.expert_id = p_expert AND c.project_id = p_projects[i]), 0)
                  INTO v_held;
                CONTINUE WHEN v_held >= p_screening[i];
                SELECT t.task_id INTO v_task FROM tasks t
                WHERE t.project_id = p_projects[i] AND t.is_screening
                  AND NOT EXISTS (SELECT 1 FROM expert_tasks e
                                  WHERE e.expert_id = p_expert AND e.project_id = t.project_id AND e.task_id = t.task_id)
                ORDER BY md5(p_expert || t.task_id) LIMIT 1;
                CONTINUE WHEN NOT FOUND;
                -- Every expert answers the same screening tasks: each lease gets a slot of its own,
                -- closed from the start and never reopened.
                INSERT INTO slots (project_id, task_id, is_gold, open, started, is_screening)
                VALUES (p_projects[i], v_task, true, false, true, true)
                RETURNING slots.slot_id INTO v_slot;
            END IF;
        END IF;
        IF v_slot IS NULL THEN
            -- Gold first when the draw says so; otherwise ordinary work, and gold only when none
            -- is left (a gold task not yet an item: the project may need it delivered).
            FOREACH v_gold IN ARRAY ARRAY[p_gold_first[i], NOT p_gold_first[i]] LOOP
                IF v_gold THEN
                    -- Gold lasts: each expert sees a gold task at most once, but any number of
                    -- experts do, so each lease gets a slot of its own (closed from the start,
                    -- never reopened), the next gold task in an order of the expert's own.
                    SELECT t.task_id INTO v_task FROM tasks t
                    WHERE t.project_id = p_projects[i] AND t.is_gold AND NOT t.is_screening
                      AND (p_gold_first[i] OR NOT t.finalized)
                      AND NOT EXISTS (SELECT 1 FROM expert_tasks e
                                      WHERE e.expert_id = p_expert AND e.project_id = t.project_id
                                        AND e.task_id = t.task_id)
                    ORDER BY md5(p_expert || t.task_id) LIMIT 1;
                    IF FOUND THEN
                        -- Of the task's current revision: a reworked gold task's answer is rework.
                        INSERT INTO slots (project_id, task_id, is_gold, open, started, revision)
                        SELECT p_projects[i], v_task, true, false, true, t.revision FROM tasks t
                        WHERE t.project_id = p_projects[i] AND t.task_id = v_task
                        RETURNING slots.slot_id INTO v_slot;
                        EXIT;
                    END IF;
                ELSE
                    -- OFFSET 0 keeps the held-task check a probe per candidate slot (three index
                    -- pages). As an anti-join the planner, once history makes an expert's held tasks
                    -- per project look like one row, read every task the expert ever held in the
                    -- project on each acquire (2.4 ms vs 0.7 ms as a probe, for 270 held tasks, after
                    -- 1M cycles of history; docs/BENCHMARKS.md, "A year of history").
                    SELECT s.slot_id, s.task_id INTO v_slot, v_task FROM slots s
                    WHERE s.project_id = p_projects[i] AND NOT s.is_gold AND s.open
                      AND NOT EXISTS (SELECT 1 FROM expert_tasks e
                                      WHERE e.expert_id = p_expert AND e.project_id = s.project_id
                                        AND e.task_id = s.task_id OFFSET 0)
                    ORDER BY s.started DESC, s.slot_id
                    LIMIT 1
                    FOR UPDATE OF s SKIP LOCKED;
                    IF FOUND THEN
                        UPDATE slots SET open = false, started = true WHERE slots.slot_id = v_slot;
                        -- Siblings another acquirer holds right now are skipped, not waited for:
                        -- waiting would deadlock two experts leasing two slots of one task at once.
                        UPDATE slots SET started = true WHERE slots.slot_id IN (
                            SELECT s2.slot_id FROM slots s2
                            WHERE s2.project_id = p_projects[i] AND s2.task_id = v_task AND NOT s2.started
                            FOR UPDATE SKIP LOCKED);
                        EXIT;
                    END IF;
                END IF;
            END LOOP;
            CONTINUE WHEN v_slot IS NULL;
        END IF;
        -- is_gold feeds the gold-exposure gauges (migration 0012); the slot's row is locked already.
        INSERT INTO expert_tasks (expert_id, project_id, task_id, is_gold)
        SELECT p_expert, p_projects[i], v_task, s.is_gold AND NOT s.is_screening FROM slots s WHERE s.slot_id = v_slot
        ON CONFLICT DO NOTHING;
        INSERT INTO assignments (assignment_id, slot_id, expert_id, project_id, task_id, state,
                                 acquire_time, expire_time, last_beat, active_seconds)
        VALUES (p_assignment, v_slot, p_expert, p_projects[i], v_task, 'active',
                p_now, p_now + p_leases[i], p_now, 0);
        RETURN QUERY SELECT 'leased', v_status, p_assignment, v_slot, p_projects[i], v_task,
            p_now, p_now + p_leases[i], p_now, 0, t.input
        FROM tasks t WHERE t.project_id = p_projects[i] AND t.task_id = v_task;
        RETURN;
    END LOOP;
    RETURN QUERY SELECT 'none', v_status, NULL::uuid, NULL::bigint, NULL::uuid, NULL::text,
        NULL::timestamptz, NULL::timestamptz, NULL::timestamptz, NULL::integer, NULL::bytea;
END
$$;
