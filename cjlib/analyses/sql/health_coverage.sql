-- Date coverage: events per feed per period (in the client's time zone) over the whole data
-- period, with empty periods filled in as zero so gaps are visible.
WITH events_ AS (
    SELECT coalesce(feed, 'events') AS feed, ts FROM events WHERE ts IS NOT NULL
), local_periods AS (
    SELECT feed, date_trunc($grain, timezone($timezone, timezone('UTC', ts))) AS period
    FROM events_
), counts AS (
    SELECT feed, period, count(*) AS events FROM local_periods GROUP BY feed, period
), span AS (
    SELECT min(period) AS first_period, max(period) AS last_period FROM counts
), periods AS (
    SELECT unnest(generate_series(first_period, last_period, CAST('1 ' || $grain AS INTERVAL)))
        AS period
    FROM span
), feeds AS (
    SELECT DISTINCT feed FROM counts
), final AS (
    SELECT f.feed, p.period, coalesce(c.events, 0) AS events
    FROM feeds f
    CROSS JOIN periods p
    LEFT JOIN counts c ON c.feed = f.feed AND c.period = p.period
)
SELECT * FROM final
ORDER BY feed, period
