-- Where each event sits in the journey around the case event: per event, the customers who have
-- both, and the median time (seconds) from a customer's first $case_event to their first
-- occurrence of the event (negative = before). Orders the steps of the phase-ordered funnel.
WITH

anchors AS (
    SELECT customer_id, min(ts) AS t0
    FROM events
    WHERE event = $case_event
    GROUP BY customer_id
),

firsts AS (
    SELECT customer_id, event, min(ts) AS t
    FROM events
    GROUP BY customer_id, event
),

final AS (
    SELECT
        f.event,
        count(*) AS customers,
        median(epoch(f.t) - epoch(a.t0)) AS offset_s
    FROM firsts AS f
    INNER JOIN anchors AS a ON a.customer_id = f.customer_id
    GROUP BY f.event
)

SELECT * FROM final
ORDER BY offset_s, event
