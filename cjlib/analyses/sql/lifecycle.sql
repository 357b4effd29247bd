-- Lifecycle states per calendar $period ('day', 'week' from Monday, 'month') in the client's
-- time zone $tz. A customer is active in a period when they did $event (any event when NULL)
-- in it, up to $data_end. For each period:
--   new          active, and this is the first period they were ever active
--   returning    active, and also active in the previous period
--   resurrecting active, not active in the previous period, but active before that
--   dormant      not active, but active in the previous period
-- Periods run from the first active period to the one holding $data_end (complete when it
-- ended at or before $data_end). Counts are customers; empty states are omitted.
WITH bounds AS (
    SELECT date_trunc($period, timezone($tz, timezone('UTC', $data_end::TIMESTAMP)))
               AS end_period,
           -- a Monday for days and weeks, a first of the month for months
           CASE WHEN $period = 'month' THEN TIMESTAMP '2000-01-01'
                ELSE TIMESTAMP '2000-01-03' END AS origin
),

scoped AS (
    SELECT customer_id, ts
    FROM events
    WHERE ($event::VARCHAR IS NULL OR event = $event) AND ts <= $data_end::TIMESTAMP
),

-- the client zone's UTC offset, looked up once per 15-minute bucket (zone changes fall on
-- quarter hours) instead of once per event
zone AS (
    SELECT bucket, timezone($tz, timezone('UTC', bucket)) - bucket AS utc_offset
    FROM (SELECT DISTINCT time_bucket(INTERVAL 15 MINUTE, ts) AS bucket FROM scoped)
),

active AS (
    SELECT DISTINCT s.customer_id, date_trunc($period, s.ts + z.utc_offset) AS period
    FROM scoped s
    JOIN zone z ON z.bucket = time_bucket(INTERVAL 15 MINUTE, s.ts)
),

indexed AS (
    SELECT a.customer_id,
           CASE WHEN $period = 'day' THEN date_diff('day', b.origin, a.period)
                WHEN $period = 'week' THEN date_diff('day', b.origin, a.period) // 7
                ELSE date_diff('month', b.origin, a.period)
           END AS p
    FROM active a CROSS JOIN bounds b
),

last_period AS (
    SELECT CASE WHEN $period = 'day' THEN date_diff('day', origin, end_period)
                WHEN $period = 'week' THEN date_diff('day', origin, end_period) // 7
                ELSE date_diff('month', origin, end_period)
           END AS p_last
    FROM bounds
),

sequenced AS (
    SELECT customer_id, p,
           lag(p) OVER w AS prev_p,
           lead(p) OVER w AS next_p,
           min(p) OVER (PARTITION BY customer_id) AS first_p
    FROM indexed
    WINDOW w AS (PARTITION BY customer_id ORDER BY p)
),

states AS (
    SELECT p,
           CASE WHEN p = first_p THEN 'new'
                WHEN prev_p = p - 1 THEN 'returning'
                ELSE 'resurrecting'
           END AS state
    FROM sequenced
    UNION ALL
    SELECT s.p + 1, 'dormant'
    FROM sequenced s CROSS JOIN last_period l
    WHERE (s.next_p IS NULL OR s.next_p > s.p + 1) AND s.p + 1 <= l.p_last
),

final AS (
    SELECT CASE WHEN $period = 'month' THEN b.origin + to_months(s.p::INTEGER)
                WHEN $period = 'week' THEN b.origin + to_days((7 * s.p)::INTEGER)
                ELSE b.origin + to_days(s.p::INTEGER)
           END AS period_start,
           s.state, count(*) AS customers, s.p < l.p_last AS complete
    FROM states s CROSS JOIN bounds b CROSS JOIN last_period l
    GROUP BY s.p, s.state, b.origin, l.p_last
)

SELECT * FROM final ORDER BY period_start, state
