-- What each feed contributes: per feed and event, events, customers and the time span, plus the
-- number of empty periods (client time zone) between the feed's first and last event.
WITH events_ AS (
    SELECT coalesce(feed, 'events') AS feed, event, customer_id, ts FROM events
), per_event AS (
    SELECT feed, event, count(*) AS events, count(DISTINCT customer_id) AS customers,
           min(ts) AS first_ts, max(ts) AS last_ts
    FROM events_
    GROUP BY feed, event
), feed_periods AS (
    SELECT feed, date_trunc($grain, timezone($timezone, timezone('UTC', ts))) AS period
    FROM events_
    WHERE ts IS NOT NULL
), feed_span AS (
    SELECT
        feed,
        count(DISTINCT period) AS periods_with_data,
        len(generate_series(min(period), max(period), CAST('1 ' || $grain AS INTERVAL)))
            AS periods_spanned
    FROM feed_periods
    GROUP BY feed
), final AS (
    SELECT
        e.feed, e.event, e.events, e.customers, e.first_ts, e.last_ts,
        s.periods_with_data, s.periods_spanned - s.periods_with_data AS empty_periods
    FROM per_event e
    LEFT JOIN feed_span s USING (feed)
)
SELECT * FROM final
ORDER BY feed, events DESC, event
