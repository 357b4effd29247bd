-- Directly-follows graph of case steps: for each pair of consecutive steps within a case
-- (case_id; steps ordered by ts, event_id), how often it occurs and the time between them
-- (seconds: median, 90th percentile, mean; quantiles interpolated). Case steps are events with a
-- case_id whose event is in $case_events and whose kind is in $kinds (NULL = no restriction),
-- in cases that contain a $require event (when given).
WITH case_events AS (
    SELECT case_id, ts, event_id, event AS step
    FROM events
    WHERE case_id IS NOT NULL
      AND ($case_events::VARCHAR[] IS NULL OR list_contains($case_events::VARCHAR[], event))
      AND ($kinds::VARCHAR[] IS NULL OR list_contains($kinds::VARCHAR[], kind))
      AND ($require::VARCHAR IS NULL
           OR case_id IN (SELECT case_id FROM events WHERE event = $require))
),

ordered AS (
    SELECT case_id, step, ts,
           lead(step) OVER w AS next_step,
           lead(ts) OVER w AS next_ts
    FROM case_events
    WINDOW w AS (PARTITION BY case_id ORDER BY ts, event_id)
),

final AS (
    SELECT step AS from_step, next_step AS to_step,
           count(*) AS n,
           count(DISTINCT case_id) AS cases,
           median(epoch(next_ts - ts)) AS median_s,
           quantile_cont(epoch(next_ts - ts), 0.9) AS p90_s,
           avg(epoch(next_ts - ts)) AS mean_s
    FROM ordered
    WHERE next_step IS NOT NULL
    GROUP BY step, next_step
)

SELECT * FROM final ORDER BY n DESC, from_step, to_step
