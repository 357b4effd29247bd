-- Channel switching after an anchor event and conversion. Unit = customer, anchored at their
-- first $anchor event (in channel $anchor_channel when given). Switcher = a later event (ts after
-- the anchor, within $within) that is $switch_event (when given) in channel $switch_channel (when
-- given); with $before_conversion the switch must come no later than the first conversion after
-- the anchor (a contact after buying is not a switch that led to it). Converted = a $conversion
-- event at or after the anchor within $window (any time when NULL). Not yet converted customers
-- whose conversion window, or (not yet switched) switch window, is still open at $data_end are
-- in progress.
WITH anchors AS (
    SELECT customer_id, min(ts) AS t0
    FROM events
    WHERE event = $anchor AND ($anchor_channel::VARCHAR IS NULL OR channel = $anchor_channel)
    GROUP BY customer_id
),

conversions AS (
    SELECT a.customer_id, min(e.ts) AS t_conv
    FROM anchors a
    JOIN events e ON e.customer_id = a.customer_id AND e.event = $conversion AND e.ts >= a.t0
    WHERE $window::INTERVAL IS NULL OR e.ts <= a.t0 + $window::INTERVAL
    GROUP BY a.customer_id
),

switches AS (
    SELECT a.customer_id, min(e.ts) AS t_switch
    FROM anchors a
    JOIN events e ON e.customer_id = a.customer_id AND e.ts > a.t0
                 AND e.ts <= a.t0 + $within::INTERVAL
    WHERE ($switch_event::VARCHAR IS NULL OR e.event = $switch_event)
      AND ($switch_channel::VARCHAR IS NULL OR e.channel = $switch_channel)
    GROUP BY a.customer_id
),

units AS (
    SELECT a.customer_id,
           s.t_switch IS NOT NULL
               AND (NOT $before_conversion OR c.t_conv IS NULL OR s.t_switch <= c.t_conv)
               AS switched,
           c.t_conv IS NOT NULL AS converted,
           c.t_conv IS NULL
               AND (a.t0 + $window::INTERVAL > $data_end::TIMESTAMP
                    OR (s.t_switch IS NULL AND a.t0 + $within::INTERVAL > $data_end::TIMESTAMP))
               IS TRUE AS open_window
    FROM anchors a
    LEFT JOIN conversions c USING (customer_id)
    LEFT JOIN switches s USING (customer_id)
),

final AS (
    SELECT switched,
           count(*) FILTER (WHERE NOT open_window) AS customers,
           count(*) FILTER (WHERE converted) AS conversions,
           count(*) FILTER (WHERE open_window) AS in_progress
    FROM units
    GROUP BY switched
)

SELECT * FROM final ORDER BY switched DESC
