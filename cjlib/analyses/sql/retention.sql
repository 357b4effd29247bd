-- Cohort retention.
-- Cohort membership: a customer's first $start_event (any event when NULL) when $first, else one
-- membership per calendar period in which they did a start event (recurring cohorts). The cohort
-- is the calendar $period ('day', 'week' = ISO week from Monday, 'month') of the start in the
-- client's time zone $tz (ts is UTC); t0 = the (first) start time of the membership.
-- Period k of a return event ($return_event, any event when NULL; at or after t0, at or before
-- $data_end): calendar periods between the cohort and the return's local period, or, when
-- $rolling, floor((return - t0) / $period_s) (rolling 24 h / 7 d periods from each customer's
-- own start). Period 0 is every member (100%).
-- retained = members returning in period k ("on"); retained_on_or_after = members returning in
-- k or any later period. A period is complete for a member when it ended at or before
-- $data_end; eligible = members for whom period k is complete; rows run to the period holding
-- the data end (at most $max_periods).
WITH scoped AS (
    SELECT customer_id, ts,
           ($start_event::VARCHAR IS NULL OR event = $start_event) AS is_start,
           ($return_event::VARCHAR IS NULL OR event = $return_event) AS is_return
    FROM events
    WHERE ts <= $data_end::TIMESTAMP
      AND ($start_event::VARCHAR IS NULL OR $return_event::VARCHAR IS NULL
           OR event IN ($start_event, $return_event))
),

-- the client zone's UTC offset, looked up once per 15-minute bucket (zone changes fall on
-- quarter hours) instead of once per event
zone AS (
    SELECT bucket, timezone($tz, timezone('UTC', bucket)) - bucket AS utc_offset
    FROM (SELECT DISTINCT time_bucket(INTERVAL 15 MINUTE, ts) AS bucket FROM scoped)
),

local_events AS (
    SELECT s.customer_id, s.ts, s.is_start, s.is_return, s.ts + z.utc_offset AS local_ts
    FROM scoped s
    JOIN zone z ON z.bucket = time_bucket(INTERVAL 15 MINUTE, s.ts)
),

firsts AS (
    SELECT customer_id, min(ts) AS t0, arg_min(local_ts, ts) AS local0
    FROM local_events
    WHERE is_start
    GROUP BY customer_id
),

members AS (
    SELECT customer_id, date_trunc($period, local0) AS cohort, t0
    FROM firsts
    WHERE $first
    UNION ALL
    SELECT customer_id, date_trunc($period, local_ts) AS cohort, min(ts) AS t0
    FROM local_events
    WHERE is_start AND NOT $first
    GROUP BY customer_id, date_trunc($period, local_ts)
),

bounds AS (
    SELECT timezone($tz, timezone('UTC', $data_end::TIMESTAMP)) AS end_local
),

member_limits AS (
    SELECT m.customer_id, m.cohort, m.t0,
           CASE WHEN $rolling THEN floor(epoch($data_end::TIMESTAMP - m.t0) / $period_s)::BIGINT
                WHEN $period = 'day'
                    THEN date_diff('day', m.cohort, date_trunc('day', b.end_local))
                WHEN $period = 'week'
                    THEN date_diff('day', m.cohort, date_trunc('week', b.end_local)) // 7
                ELSE date_diff('month', m.cohort, date_trunc('month', b.end_local))
           END AS k_last
    FROM members m CROSS JOIN bounds b
),

-- a return is its time (rolling periods) or its local calendar period; only periods k >= 1
-- count, so returns before t0 (k < 1) drop out by themselves; periods beyond $max_periods only
-- matter for "on or after", so they are capped at $max_periods + 1
returns AS (
    SELECT customer_id,
           CASE WHEN $rolling THEN ts ELSE date_trunc($period, local_ts) END AS r
    FROM local_events
    WHERE is_return
),

hits AS (
    SELECT DISTINCT customer_id, cohort, least(k, $max_periods + 1) AS k
    FROM (
        SELECT m.customer_id, m.cohort,
               CASE WHEN $rolling THEN floor(epoch(r.r - m.t0) / $period_s)::BIGINT
                    WHEN $period = 'day' THEN date_diff('day', m.cohort, r.r)
                    WHEN $period = 'week' THEN date_diff('day', m.cohort, r.r) // 7
                    ELSE date_diff('month', m.cohort, r.r)
               END AS k
        FROM members m
        JOIN returns r ON r.customer_id = m.customer_id
    )
    WHERE k >= 1
),

on_counts AS (
    SELECT cohort, k, count(*) AS retained
    FROM hits
    WHERE k <= $max_periods
    GROUP BY cohort, k
),

last_return AS (
    SELECT cohort, customer_id, least(max(k), $max_periods) AS k
    FROM hits
    GROUP BY cohort, customer_id
),

last_return_hist AS (
    SELECT cohort, k, count(*) AS n FROM last_return GROUP BY cohort, k
),

complete_hist AS (
    SELECT cohort, least(k_last - 1, $max_periods) AS k, count(*) AS n
    FROM member_limits
    GROUP BY cohort, least(k_last - 1, $max_periods)
),

sizes AS (
    SELECT cohort, count(*) AS cohort_size, least(max(k_last), $max_periods) AS k_max
    FROM member_limits
    GROUP BY cohort
),

grid AS (
    SELECT s.cohort, s.cohort_size, g.k
    FROM sizes s
    CROSS JOIN LATERAL range(0, s.k_max + 1) AS g(k)
),

stacked AS (
    SELECT g.cohort, g.cohort_size, g.k,
           coalesce(o.retained, 0) AS retained,
           coalesce(l.n, 0) AS last_here,
           coalesce(c.n, 0) AS complete_here
    FROM grid g
    LEFT JOIN on_counts o ON o.cohort = g.cohort AND o.k = g.k
    LEFT JOIN last_return_hist l ON l.cohort = g.cohort AND l.k = g.k
    LEFT JOIN complete_hist c ON c.cohort = g.cohort AND c.k = g.k
),

final AS (
    SELECT cohort, k AS period,
           CASE WHEN $rolling THEN NULL
                WHEN $period = 'month' THEN cohort + to_months(k::INTEGER)
                WHEN $period = 'week' THEN cohort + to_days((7 * k)::INTEGER)
                ELSE cohort + to_days(k::INTEGER)
           END AS period_start,
           cohort_size,
           CASE WHEN k = 0 THEN cohort_size ELSE retained END AS retained,
           CASE WHEN k = 0 THEN cohort_size
                ELSE sum(last_here) OVER (PARTITION BY cohort ORDER BY k DESC
                                          ROWS UNBOUNDED PRECEDING)
           END AS retained_on_or_after,
           sum(complete_here) OVER (PARTITION BY cohort ORDER BY k DESC
                                    ROWS UNBOUNDED PRECEDING) AS eligible
    FROM stacked
)

SELECT cohort, period, period_start, cohort_size, retained::BIGINT AS retained,
       retained_on_or_after::BIGINT AS retained_on_or_after, eligible::BIGINT AS eligible
FROM final
ORDER BY cohort, period
