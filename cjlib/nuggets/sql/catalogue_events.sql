-- One row per event name: volume, reach and the mapping's labels (kind, phase, channel are the
-- most common ones), how many carry a case_id or a value, and the time span. The nugget scan reads
-- the client's structure from this instead of from a list of event names.
WITH

per_event AS (
    SELECT
        event,
        mode(kind) AS kind,
        mode(phase) AS phase,
        mode(channel) AS channel,
        count(DISTINCT channel) AS channels,
        count(*) AS n,
        count(DISTINCT customer_id) AS customers,
        count(case_id) AS with_case,
        count(DISTINCT case_id) AS cases,
        count(value) AS with_value,
        avg(value) AS mean_value,
        count(source) AS with_source,
        min(ts) AS first_ts,
        max(ts) AS last_ts
    FROM events
    GROUP BY event
),

totals AS (
    SELECT count(*) AS all_customers FROM customers
),

final AS (
    SELECT
        p.*,
        p.n / p.customers AS per_customer,
        p.customers / t.all_customers AS reach
    FROM per_event AS p
    CROSS JOIN totals AS t
)

SELECT * FROM final
ORDER BY n DESC, event
