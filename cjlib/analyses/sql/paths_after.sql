-- What customers do after dropping out at a step: the next {{level}} states after their last
-- $after event, for customers with no $unless event after it (all customers with $after when
-- $unless is NULL). Order is (ts, event_id). Next events are those within $window of the
-- anchor (all later events when NULL), restricted to $events / $exclude (the conversion event
-- always counts). The first $steps next states form the customer's "next path" ('(nothing)'
-- when none). Converted = a $conversion event after the anchor (within the window); not
-- converted with the window still open at $data_end = in progress. Top $top next paths are
-- kept, the rest summed into '(other)'.
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
    SELECT a.customer_id, a.t_anchor,
           $window::INTERVAL IS NOT NULL AND a.t_anchor + $window::INTERVAL > $data_end::TIMESTAMP
               AS open_window
    FROM anchors a
    WHERE NOT EXISTS (SELECT 1 FROM completed c WHERE c.customer_id = a.customer_id)
),

next_events AS (
    SELECT l.customer_id, l.event, l.state,
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

per_customer AS (
    SELECT d.customer_id, d.open_window,
           coalesce(string_agg(coalesce(n.state, '(none)'), ' → ' ORDER BY n.position)
                        FILTER (WHERE n.position <= $steps), '(nothing)') AS next_path,
           coalesce(bool_or(n.event = $conversion), false) AS converted
    FROM dropouts d
    LEFT JOIN next_events n USING (customer_id)
    GROUP BY d.customer_id, d.open_window
),

grouped AS (
    SELECT next_path,
           count(*) FILTER (WHERE converted OR NOT open_window) AS customers,
           count(*) FILTER (WHERE converted) AS conversions,
           count(*) FILTER (WHERE NOT converted AND open_window) AS in_progress
    FROM per_customer
    GROUP BY next_path
),

ranked AS (
    SELECT *, row_number() OVER (ORDER BY customers + in_progress DESC, next_path) AS rank
    FROM grouped
),

final AS (
    SELECT next_path, customers, conversions, in_progress, rank FROM ranked WHERE rank <= $top
    UNION ALL
    SELECT '(other)', sum(customers)::BIGINT, sum(conversions)::BIGINT,
           sum(in_progress)::BIGINT, $top + 1
    FROM ranked WHERE rank > $top
    HAVING count(*) > 0
)

SELECT next_path, customers, conversions, in_progress FROM final ORDER BY rank
