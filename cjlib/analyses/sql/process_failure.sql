-- Failure of a step: $started vs $completed, per attempt and per unit ({{unit}}: customer_id or
-- case_id). An attempt is one $started event; attempts of a unit are ordered by (ts, event_id).
-- Attempt i succeeds when a $completed event of the same unit has ts >= its start and
-- ts < the start of attempt i+1 (no bound for the last attempt) and, with $window, ts <= start +
-- window. A completion therefore belongs to the latest attempt started at or before it. An
-- attempt not completed whose window is still open at $data_end is in progress (never without a
-- window). A unit fails when none of its attempts succeeded; it is in progress when none
-- succeeded and its last attempt is in progress.
WITH starts AS (
    SELECT {{unit}} AS unit, ts,
           lead(ts) OVER w AS next_ts,
           row_number() OVER w AS attempt,
           count(*) OVER (PARTITION BY {{unit}}) AS attempts
    FROM events
    WHERE event = $started AND {{unit}} IS NOT NULL
    WINDOW w AS (PARTITION BY {{unit}} ORDER BY ts, event_id)
),

completions AS (
    SELECT {{unit}} AS unit, ts
    FROM events
    WHERE event = $completed AND {{unit}} IS NOT NULL
),

matched AS (
    SELECT s.unit, s.attempt
    FROM starts s
    JOIN completions c
      ON c.unit = s.unit AND c.ts >= s.ts AND (s.next_ts IS NULL OR c.ts < s.next_ts)
     AND ($window::INTERVAL IS NULL OR c.ts <= s.ts + $window::INTERVAL)
    GROUP BY s.unit, s.attempt
),

attempts AS (
    SELECT s.unit, s.attempt, s.attempts, m.unit IS NOT NULL AS completed,
           m.unit IS NULL AND (s.ts + $window::INTERVAL > $data_end::TIMESTAMP) IS TRUE
               AS in_progress
    FROM starts s
    LEFT JOIN matched m USING (unit, attempt)
),

units AS (
    SELECT unit, bool_or(completed) AS completed,
           NOT bool_or(completed) AND bool_or(in_progress AND attempt = attempts) AS in_progress
    FROM attempts
    GROUP BY unit
),

final AS (
    SELECT 'attempt' AS level,
           count(*) FILTER (WHERE NOT in_progress) AS n,
           count(*) FILTER (WHERE completed) AS completed,
           count(*) FILTER (WHERE in_progress) AS in_progress,
           1 AS o
    FROM attempts
    UNION ALL
    SELECT 'first attempt', count(*) FILTER (WHERE NOT in_progress),
           count(*) FILTER (WHERE completed), count(*) FILTER (WHERE in_progress), 2
    FROM attempts WHERE attempt = 1
    UNION ALL
    SELECT $unit_name, count(*) FILTER (WHERE NOT in_progress),
           count(*) FILTER (WHERE completed), count(*) FILTER (WHERE in_progress), 3
    FROM units
)

SELECT level, n, completed, n - completed AS failed, in_progress FROM final ORDER BY o
