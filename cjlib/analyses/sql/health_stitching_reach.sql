-- How many systems (feeds) each unified customer appears in, with their events.
WITH customers_ AS (
    SELECT customer_id, len(feeds) AS n_feeds, n_events FROM customers
), final AS (
    SELECT n_feeds, count(*) AS customers, sum(n_events) AS events
    FROM customers_
    GROUP BY n_feeds
)
SELECT * FROM final
ORDER BY n_feeds
