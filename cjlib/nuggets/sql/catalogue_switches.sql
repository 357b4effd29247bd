-- Channel switches after a case event: customers whose first $case_event in a channel is followed
-- within $within by an event in another channel, per (anchor channel, event, its channel).
WITH

anchors AS (
    SELECT customer_id, channel, min(ts) AS t0
    FROM events
    WHERE event = $case_event AND channel IS NOT NULL
    GROUP BY customer_id, channel
),

later AS (
    SELECT a.channel AS anchor_channel, e.event, e.channel, a.customer_id
    FROM anchors AS a
    INNER JOIN events AS e
        ON e.customer_id = a.customer_id
        AND e.ts > a.t0
        AND e.ts <= a.t0 + $within::INTERVAL
        AND e.channel IS NOT NULL
        AND e.channel <> a.channel
),

final AS (
    SELECT anchor_channel, event, channel, count(DISTINCT customer_id) AS customers
    FROM later
    GROUP BY anchor_channel, event, channel
)

SELECT * FROM final
ORDER BY anchor_channel, customers DESC, event
