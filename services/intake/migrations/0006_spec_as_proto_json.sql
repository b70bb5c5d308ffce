-- Project specs were stored in a JSON layout of intake's own; they are now the API's ProjectSpec
-- message in protobuf's JSON mapping (field names as in the .proto, enums as numbers), read and
-- written with json_format. Rewrites the specs stored in the old layout (told apart by its
-- `lease_seconds` key, which the new one does not have).
UPDATE projects SET spec = jsonb_strip_nulls(jsonb_build_object(
    'title', spec->'title',
    'data_kind', CASE spec->>'data_kind'
        WHEN 'sft_demonstration' THEN 1 WHEN 'preference' THEN 2 WHEN 'trajectory' THEN 3
        WHEN 'rubric_grade' THEN 4 WHEN 'adversarial_prompt' THEN 5 END,
    'domain', spec->'domain',
    'qualifications', jsonb_strip_nulls(jsonb_build_object(
        'minimum_degree', spec->'qualifications'->'minimum_degree',
        'fields', spec->'qualifications'->'fields',
        'languages', spec->'qualifications'->'languages',
        'cohort_ids', spec->'qualifications'->'cohort_ids',
        'minimum_quality', spec->'qualifications'->'minimum_quality',
        'screening', CASE WHEN coalesce((spec->'qualifications'->>'screening_tasks')::integer, 0) > 0 THEN
            jsonb_build_object('tasks', spec->'qualifications'->'screening_tasks',
                               'pass_share', spec->'qualifications'->'screening_pass_share') END)),
    'instructions_markdown', spec->'instructions_markdown',
    'rubric', jsonb_build_object('criteria', spec->'rubric'),
    'target_accepted_items', spec->'target_accepted_items',
    'overlap', spec->'overlap',
    'max_overlap', spec->'max_overlap',
    'gold_rate', spec->'gold_rate',
    'review_sample_rate', spec->'review_sample_rate',
    'pay', spec->'pay',
    'currency_code', spec->'currency_code',
    'budget_cap_minor', spec->'budget_cap_minor',
    'deadline', CASE WHEN jsonb_typeof(spec->'deadline') = 'string' THEN spec->'deadline' END,
    'priority', spec->'priority',
    'lease_duration', CASE WHEN jsonb_typeof(spec->'lease_seconds') = 'number'
                           THEN to_jsonb((spec->>'lease_seconds') || 's') END,
    'per_expert_task_cap', spec->'per_expert_task_cap'))
WHERE spec ? 'lease_seconds';
