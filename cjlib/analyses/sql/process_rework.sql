-- Rework: a step that occurs more than once in the same case. Per step: cases containing it,
-- cases repeating it, and the extra occurrences (occurrences beyond the first). The row
-- '(any step)' counts cases repeating at least one step. Case steps as in process_dfg.sql.
WITH case_events AS (
    SELECT case_id, event AS step
    FROM events
    WHERE case_id IS NOT NULL
      AND ($case_events::VARCHAR[] IS NULL OR list_contains($case_events::VARCHAR[], event))
      AND ($kinds::VARCHAR[] IS NULL OR list_contains($kinds::VARCHAR[], kind))
      AND ($require::VARCHAR IS NULL
           OR case_id IN (SELECT case_id FROM events WHERE event = $require))
),

per_case_step AS (
    SELECT case_id, step, count(*) AS occurrences
    FROM case_events
    GROUP BY case_id, step
),

per_step AS (
    SELECT step, count(*) AS cases,
           count(*) FILTER (WHERE occurrences > 1) AS cases_repeated,
           sum(occurrences - 1) AS extra_occurrences
    FROM per_case_step
    GROUP BY step
),

any_step AS (
    SELECT '(any step)' AS step, count(*) AS cases,
           count(*) FILTER (WHERE repeated) AS cases_repeated,
           sum(extra) AS extra_occurrences
    FROM (
        SELECT case_id, max(occurrences) > 1 AS repeated, sum(occurrences - 1) AS extra
        FROM per_case_step
        GROUP BY case_id
    )
    HAVING count(*) > 0
),

final AS (
    SELECT step, cases, cases_repeated, extra_occurrences::BIGINT AS extra_occurrences, 0 AS o
    FROM per_step
    UNION ALL
    SELECT step, cases, cases_repeated, extra_occurrences::BIGINT, 1 FROM any_step
)

SELECT step, cases, cases_repeated, extra_occurrences FROM final
ORDER BY o, cases_repeated DESC, step
