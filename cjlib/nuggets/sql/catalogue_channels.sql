-- Customers per (event, channel): how many customers have the event in each channel (the anchors
-- of a channel switch).
WITH

final AS (
    SELECT event, channel, count(*) AS n, count(DISTINCT customer_id) AS customers
    FROM events
    WHERE channel IS NOT NULL
    GROUP BY event, channel
)

SELECT * FROM final
ORDER BY event, customers DESC, channel
