-- Step chart behind paths_after.sql: for the customers who dropped out after their last $after
-- event (no $unless after it), the share doing each {{level}} state at next-step positions
-- 1..$steps ('(nothing)' once their next events run out). Same scoping and window rules as
-- paths_after.sql.
WITH scoped AS (
    SELECT customer_id, ts, event_id, event, {{level}} AS state
    FROM events
    WHERE event IN ($after, $conversion) OR event = $unless
       OR (($events::VARCHAR[] IS NULL OR list_contains($events::VARCHAR[], event))
           AND ($exclude::VARCHAR[] IS NULL OR NOT list_contains($exclude::VARCHAR[], event)))
),

anchors AS (
    SELECT customer_id, ts AS t_anchor, event_id AS anchor_id
    FROM (
        SELECT customer_id, ts, event_id,
               row_number() OVER (PARTITION BY customer_id ORDER BY ts DESC, event_id DESC)
                   AS nth
        FROM scoped
        WHERE event = $after
    )
    WHERE nth = 1
),

later AS (
    SELECT a.customer_id, a.t_anchor, e.ts, e.event_id, e.event, e.state
    FROM anchors a
    JOIN scoped e
      ON e.customer_id = a.customer_id
     AND (e.ts > a.t_anchor OR (e.ts = a.t_anchor AND e.event_id > a.anchor_id))
),

completed AS (
    SELECT DISTINCT customer_id FROM later WHERE event = $unless
),

dropouts AS (
    SELECT a.customer_id, a.t_anchor
    FROM anchors a
    WHERE NOT EXISTS (SELECT 1 FROM completed c WHERE c.customer_id = a.customer_id)
),

next_events AS (
    SELECT l.customer_id, l.state,
           row_number() OVER (PARTITION BY l.customer_id ORDER BY l.ts, l.event_id) AS position
    FROM later l
    JOIN dropouts d USING (customer_id)
    WHERE l.event <> $after
      AND ($window::INTERVAL IS NULL OR l.ts <= d.t_anchor + $window::INTERVAL)
      AND (l.event = $conversion
           OR (($events::VARCHAR[] IS NULL OR list_contains($events::VARCHAR[], l.event))
               AND ($exclude::VARCHAR[] IS NULL
                    OR NOT list_contains($exclude::VARCHAR[], l.event))))
),

grid AS (
    SELECT d.customer_id, p.position
    FROM dropouts d CROSS JOIN range(1, $steps + 1) AS p(position)
),

final AS (
    SELECT g.position, coalesce(n.state, CASE WHEN n.customer_id IS NULL THEN '(nothing)'
                                             ELSE '(none)' END) AS state,
           count(*) AS customers,
           count(*) / sum(count(*)) OVER (PARTITION BY g.position) AS share
    FROM grid g
    LEFT JOIN next_events n ON n.customer_id = g.customer_id AND n.position = g.position
    GROUP BY 1, 2
)

SELECT * FROM final ORDER BY position, customers DESC, state
