-- One-row summary of the cases in scope: cases, customers, steps, and the case duration (first
-- to last step, seconds: median, 90th percentile, mean). Case steps as in process_dfg.sql.
WITH case_events AS (
    SELECT case_id, customer_id, ts
    FROM events
    WHERE case_id IS NOT NULL
      AND ($case_events::VARCHAR[] IS NULL OR list_contains($case_events::VARCHAR[], event))
      AND ($kinds::VARCHAR[] IS NULL OR list_contains($kinds::VARCHAR[], kind))
      AND ($require::VARCHAR IS NULL
           OR case_id IN (SELECT case_id FROM events WHERE event = $require))
),

cases AS (
    SELECT case_id, count(*) AS steps, epoch(max(ts) - min(ts)) AS duration_s
    FROM case_events
    GROUP BY case_id
),

final AS (
    SELECT (SELECT count(*) FROM cases) AS cases,
           (SELECT count(DISTINCT customer_id) FROM case_events) AS customers,
           (SELECT count(*) FROM case_events) AS steps,
           (SELECT median(duration_s) FROM cases) AS median_s,
           (SELECT quantile_cont(duration_s, 0.9) FROM cases) AS p90_s,
           (SELECT avg(duration_s) FROM cases) AS mean_s
)

SELECT * FROM final
