-- Top sequences (variants) of {{level}} per customer and their conversion.
-- A customer's path starts at their first in-scope event (t0) and holds the states of the events
-- before their first $conversion event at or after t0 (the conversion itself is not part of the
-- path), cut at t0 + $window when a window is given. With $collapse, repeats of the same state in
-- a row count once (channel switches). Converted = the first conversion lies within the window.
-- Not converted with a window still open at $data_end = in progress (not counted in rates).
-- Paths longer than $max_steps keep their first $max_steps states and end in '…'.
-- Variants beyond the top $top are summed into '(other)'.
WITH scoped AS (
    SELECT customer_id, ts, event_id, event, {{level}} AS state
    FROM events
    WHERE event = $conversion
       OR (($events::VARCHAR[] IS NULL OR list_contains($events::VARCHAR[], event))
           AND ($exclude::VARCHAR[] IS NULL OR NOT list_contains($exclude::VARCHAR[], event)))
),

starts AS (
    SELECT customer_id, min(ts) AS t0 FROM scoped GROUP BY customer_id
),

conversions AS (
    SELECT customer_id, ts AS t_conv, event_id AS conv_id
    FROM (
        SELECT customer_id, ts, event_id,
               row_number() OVER (PARTITION BY customer_id ORDER BY ts, event_id) AS nth
        FROM scoped
        WHERE event = $conversion
    )
    WHERE nth = 1
),

units AS (
    SELECT s.customer_id, s.t0, c.t_conv, c.conv_id,
           c.t_conv IS NOT NULL
               AND ($window::INTERVAL IS NULL OR c.t_conv <= s.t0 + $window::INTERVAL)
               AS converted,
           $window::INTERVAL IS NOT NULL AND s.t0 + $window::INTERVAL > $data_end::TIMESTAMP
               AS open_window
    FROM starts s LEFT JOIN conversions c USING (customer_id)
),

path_events AS (
    SELECT e.customer_id, e.ts, e.event_id, e.state,
           lag(e.state) OVER (PARTITION BY e.customer_id ORDER BY e.ts, e.event_id) AS prev_state
    FROM scoped e
    JOIN units u USING (customer_id)
    WHERE e.event <> $conversion AND e.state IS NOT NULL
      AND (NOT u.converted OR e.ts < u.t_conv OR (e.ts = u.t_conv AND e.event_id < u.conv_id))
      AND ($window::INTERVAL IS NULL OR e.ts <= u.t0 + $window::INTERVAL)
),

paths AS (
    SELECT customer_id, len(states) AS n_steps,
           array_to_string(states[1:$max_steps], ' → ')
               || CASE WHEN len(states) > $max_steps THEN ' → …' ELSE '' END AS path
    FROM (
        SELECT customer_id, list(state ORDER BY ts, event_id) AS states
        FROM path_events
        WHERE NOT $collapse OR prev_state IS NULL OR prev_state <> state
        GROUP BY customer_id
    )
),

per_customer AS (
    SELECT coalesce(p.path, '(none)') AS path, coalesce(p.n_steps, 0) AS n_steps,
           u.converted, u.open_window
    FROM units u LEFT JOIN paths p USING (customer_id)
),

variants AS (
    SELECT path, any_value(n_steps) AS n_steps,
           count(*) FILTER (WHERE converted OR NOT open_window) AS customers,
           count(*) FILTER (WHERE converted) AS conversions,
           count(*) FILTER (WHERE NOT converted AND open_window) AS in_progress
    FROM per_customer
    GROUP BY path
),

ranked AS (
    SELECT *, row_number() OVER (ORDER BY customers + in_progress DESC, path) AS rank
    FROM variants
),

final AS (
    SELECT path, n_steps, customers, conversions, in_progress, rank
    FROM ranked WHERE rank <= $top
    UNION ALL
    SELECT '(other)', NULL, sum(customers)::BIGINT, sum(conversions)::BIGINT,
           sum(in_progress)::BIGINT, $top + 1
    FROM ranked WHERE rank > $top
    HAVING count(*) > 0
)

SELECT path, n_steps, customers, conversions, in_progress FROM final ORDER BY rank
