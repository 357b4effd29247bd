-- Process variants: the sequence of steps of each case (ordered by ts, event_id) and, per
-- variant, the number of cases, their share and the case duration (first to last step, seconds).
-- Variants beyond the top $top are summed into '(other)' (its duration quantiles are those of
-- all its cases). Case steps as in process_dfg.sql.
WITH case_events AS (
    SELECT case_id, ts, event_id, event AS step
    FROM events
    WHERE case_id IS NOT NULL
      AND ($case_events::VARCHAR[] IS NULL OR list_contains($case_events::VARCHAR[], event))
      AND ($kinds::VARCHAR[] IS NULL OR list_contains($kinds::VARCHAR[], kind))
      AND ($require::VARCHAR IS NULL
           OR case_id IN (SELECT case_id FROM events WHERE event = $require))
),

cases AS (
    SELECT case_id,
           string_agg(step, ' → ' ORDER BY ts, event_id) AS variant,
           count(*) AS n_steps,
           epoch(max(ts) - min(ts)) AS duration_s
    FROM case_events
    GROUP BY case_id
),

ranked AS (
    SELECT variant, count(*) AS cases,
           row_number() OVER (ORDER BY count(*) DESC, variant) AS rank
    FROM cases
    GROUP BY variant
),

labelled AS (
    SELECT CASE WHEN r.rank <= $top THEN c.variant ELSE '(other)' END AS variant,
           least(r.rank, $top + 1) AS rank, c.n_steps, c.duration_s
    FROM cases c JOIN ranked r USING (variant)
),

final AS (
    SELECT variant,
           CASE WHEN variant = '(other)' THEN NULL ELSE any_value(n_steps) END AS n_steps,
           count(*) AS cases,
           count(*) / sum(count(*)) OVER () AS share,
           median(duration_s) AS median_s,
           quantile_cont(duration_s, 0.9) AS p90_s,
           min(rank) AS rank
    FROM labelled
    GROUP BY variant
)

SELECT variant, n_steps, cases, share, median_s, p90_s FROM final ORDER BY rank
