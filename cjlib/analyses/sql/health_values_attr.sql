-- The values of one extra attribute (attrs JSON key) per feed: events, customers, time span.
-- Email- and phone-like text in the values is masked.
WITH events_ AS (
    SELECT coalesce(feed, 'events') AS feed, customer_id, ts,
           regexp_replace(
               regexp_replace(json_extract_string(attrs, $path),
                   '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}', '<email>', 'g'),
               '(\+|\b0)[0-9][0-9 ().-]{6,}[0-9]', '<phone>', 'g') AS value
    FROM events
), final AS (
    SELECT feed, value, count(*) AS events, count(DISTINCT customer_id) AS customers,
           min(ts) AS first_ts, max(ts) AS last_ts
    FROM events_
    WHERE value IS NOT NULL
    GROUP BY feed, value
)
SELECT * FROM final
ORDER BY events DESC, feed, value
LIMIT $top
