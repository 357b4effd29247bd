-- Switches of {{level}} per customer (channel switches: web -> phone -> email) and what they
-- lead to: customers by number of switches = states in the collapsed path minus one (capped at
-- $max_switches, meaning "that many or more"), with their conversion. Paths are built exactly as
-- in paths_variants.sql: events from the customer's first in-scope event up to (not including)
-- their first $conversion event, cut at t0 + $window when a window is given; customers whose
-- window is still open at $data_end without converting are in progress.
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

collapsed AS (
    SELECT customer_id, state
    FROM path_events
    WHERE NOT $collapse OR prev_state IS NULL OR prev_state <> state
),

paths AS (
    SELECT customer_id, count(*) AS n_steps FROM collapsed GROUP BY customer_id
),

per_customer AS (
    SELECT coalesce(p.n_steps, 0) AS n_steps, u.converted, u.open_window
    FROM units u LEFT JOIN paths p USING (customer_id)
),

switches AS (
    SELECT least(greatest(n_steps - 1, 0), $max_switches) AS switches,
           count(*) FILTER (WHERE converted OR NOT open_window) AS customers,
           count(*) FILTER (WHERE converted) AS conversions,
           count(*) FILTER (WHERE NOT converted AND open_window) AS in_progress
    FROM per_customer
    WHERE n_steps > 0
    GROUP BY 1
),

final AS (
    SELECT * FROM switches
)

SELECT * FROM final ORDER BY switches
