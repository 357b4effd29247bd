-- Follow-up latency and conversion per case (docs/funnel-semantics.md, "Latency effect").
-- A case is a case_id of the case event (or one case-event occurrence when it has no case_id),
-- opened at its first occurrence. Latency = time to the first follow-up at or after the opening,
-- within the window: a follow-up carrying a case_id counts for that case only; one without
-- counts for every open case of its customer. Outcome = a conversion event by the customer
-- within [opened, opened + window]. Output: counts per (method, latency bucket, stratum) and
-- how many of them were deferred (see $robust below).
-- Strata slots s1..s4: $sN_kind in ('none', 'event', 'attr', 'customer', 'hour', 'weekday').
--
-- Plan (what keeps it near a scan at 10M events): bound parameters are constants to DuckDB's
-- optimizer, so what a call does not use folds away. Without step conditions ($has_conds) the
-- scan reads only event_id, customer_id, ts, event and case_id; without strata ($has_strata,
-- $use_customers) no stratum value is aggregated, no customer joined, no label built; without
-- by_method there is one method and no cross join. A case's occurrences and the follow-ups
-- naming it are one hash aggregate on case_id (no join back). Follow-ups without a case_id and
-- conversions are looked up in per-customer lists (one hash join, no sort); a customer with more
-- than $list_max of them defers its cases, and the caller reruns with $robust: ASOF joins, which
-- cannot fan out. Stratum labels are built after counting.
WITH

-- import CTEs ----------------------------------------------------------------------------------
defs AS (
    SELECT unnest(from_json($defs, '[{"role": "VARCHAR", "label": "VARCHAR",
        "event": "VARCHAR",
        "conds": [{"col": "VARCHAR", "path": "VARCHAR", "vals": ["VARCHAR"]}]}]'),
        recursive := true)
),

-- logic CTEs -----------------------------------------------------------------------------------
-- step: 0 case, 1 follow-up, 2 conversion (integers: cheaper to filter on than role names)
steps AS (
    SELECT
        CASE role WHEN 'case' THEN 0 WHEN 'followup' THEN 1 ELSE 2 END AS step,
        CASE WHEN $by_method THEN label ELSE 'any' END AS method,
        event,
        conds
    FROM defs
),

-- the events of the steps (an event matching several steps once per step); strata values only
-- on case events, the only rows that use them
matched AS MATERIALIZED (
    SELECT
        d.step,
        d.method,
        e.event_id,
        e.customer_id,
        e.case_id,
        e.ts,
        -- the (ts, event_id) order of case events as one number (cheaper for arg_min than a
        -- struct): microseconds x 2^64 + event_id, which never carries into the microseconds
        -- (|event_id| < 2^63); a missing ts sorts last, as in the struct. Timestamps are finite
        -- (ingest keeps 1970..now, pandas has no infinity)
        CASE WHEN d.step = 0
             THEN coalesce(epoch_us(e.ts), 9223372036854775807)::HUGEINT * 18446744073709551616
                  + e.event_id
        END AS ord,
        CASE WHEN d.step = 0 THEN
            CASE $s1_kind WHEN 'event' THEN CAST(e.{{s1_col}} AS VARCHAR)
                          WHEN 'attr' THEN json_extract_string(e.attrs, $s1_path) END
        END AS s1,
        CASE WHEN d.step = 0 THEN
            CASE $s2_kind WHEN 'event' THEN CAST(e.{{s2_col}} AS VARCHAR)
                          WHEN 'attr' THEN json_extract_string(e.attrs, $s2_path) END
        END AS s2,
        CASE WHEN d.step = 0 THEN
            CASE $s3_kind WHEN 'event' THEN CAST(e.{{s3_col}} AS VARCHAR)
                          WHEN 'attr' THEN json_extract_string(e.attrs, $s3_path) END
        END AS s3,
        CASE WHEN d.step = 0 THEN
            CASE $s4_kind WHEN 'event' THEN CAST(e.{{s4_col}} AS VARCHAR)
                          WHEN 'attr' THEN json_extract_string(e.attrs, $s4_path) END
        END AS s4
    FROM events AS e
    INNER JOIN steps AS d ON e.event = d.event
    WHERE NOT $has_conds OR
        -- {{>step_conditions row=e defs=d}}
),

-- cases with a case_id, from their occurrences in [start, end): opened at the first
-- (ts, event_id) one, with the times of the follow-ups naming the case (any time: earlier ones
-- are dropped below); with by_method each time carries its method (only the list used is built)
cases_by_id AS (
    SELECT
        min(ts) FILTER (WHERE step = 0) AS t0,
        arg_min(customer_id, ord) AS customer_id,
        CASE WHEN NOT $by_method THEN list(ts) FILTER (WHERE step = 1) END AS follows,
        CASE WHEN $by_method
             THEN list({'method': method, 'ts': ts}) FILTER (WHERE step = 1) END AS follows_by,
        CASE WHEN $s1_kind IN ('event', 'attr')
             THEN arg_min_null(s1, ord) END AS s1,
        CASE WHEN $s2_kind IN ('event', 'attr')
             THEN arg_min_null(s2, ord) END AS s2,
        CASE WHEN $s3_kind IN ('event', 'attr')
             THEN arg_min_null(s3, ord) END AS s3,
        CASE WHEN $s4_kind IN ('event', 'attr')
             THEN arg_min_null(s4, ord) END AS s4
    FROM matched
    WHERE case_id IS NOT NULL
        AND (step = 1
             OR (step = 0 AND ($start IS NULL OR ts >= $start) AND ($end IS NULL OR ts < $end)))
    GROUP BY case_id
    HAVING min(step) = 0  -- a case occurrence in range, not only follow-ups
),

-- cases without a case_id: one per occurrence in [start, end)
cases_no_id AS (
    SELECT
        min(ts) AS t0,
        arg_min(customer_id, ord) AS customer_id,
        NULL::TIMESTAMP[] AS follows,
        NULL::STRUCT(method VARCHAR, ts TIMESTAMP)[] AS follows_by,
        CASE WHEN $s1_kind IN ('event', 'attr')
             THEN arg_min_null(s1, ord) END AS s1,
        CASE WHEN $s2_kind IN ('event', 'attr')
             THEN arg_min_null(s2, ord) END AS s2,
        CASE WHEN $s3_kind IN ('event', 'attr')
             THEN arg_min_null(s3, ord) END AS s3,
        CASE WHEN $s4_kind IN ('event', 'attr')
             THEN arg_min_null(s4, ord) END AS s4
    FROM matched
    WHERE step = 0 AND case_id IS NULL
        AND ($start IS NULL OR ts >= $start) AND ($end IS NULL OR ts < $end)
    GROUP BY event_id
),

methods AS (
    SELECT DISTINCT method FROM steps WHERE step = 1
),

-- per case and follow-up method (without by_method the one method 'any', no join): the first
-- follow-up naming the case at or after the opening
cases AS (
    SELECT
        * EXCLUDE (follows, follows_by),
        'any' AS method,
        list_min(list_filter(follows, lambda t: t >= t0)) AS t_case
    FROM (SELECT * FROM cases_by_id UNION ALL SELECT * FROM cases_no_id)
    WHERE NOT $by_method
    UNION ALL
    SELECT
        c.* EXCLUDE (follows, follows_by),
        m.method,
        list_min(list_transform(
            list_filter(c.follows_by, lambda f: f.method = m.method AND f.ts >= c.t0),
            lambda f: f.ts)) AS t_case
    FROM (SELECT * FROM cases_by_id UNION ALL SELECT * FROM cases_no_id) AS c
    CROSS JOIN methods AS m
    WHERE $by_method
),

-- follow-ups without a case_id and conversions: the customer's first one at or after the
-- opening. Fast path: looked up in the customer's list of times (a hash join, no sort), for
-- customers with at most $list_max of them; the cases of customers with more are marked
-- `deferred` (their lookups are left out rather than made quadratic) and the caller then runs the
-- query again with $robust: ASOF joins for every case (sort-based, no fan-out).
caseless AS (
    SELECT customer_id, method, ts FROM matched WHERE step = 1 AND case_id IS NULL
),

conversions AS (
    SELECT customer_id, ts FROM matched WHERE step = 2
),

-- per customer: the times of its conversions and caseless follow-ups (with by_method each
-- follow-up time carries its method; only the list used is built)
customer_lists AS (
    SELECT
        customer_id,
        count(*) FILTER (WHERE step = 1) AS n_caseless,
        CASE WHEN NOT $by_method THEN list(ts) FILTER (WHERE step = 1) END AS caseless,
        CASE WHEN $by_method
             THEN list({'method': method, 'ts': ts}) FILTER (WHERE step = 1) END AS caseless_by,
        count(*) FILTER (WHERE step = 2) AS n_conversions,
        list(ts) FILTER (WHERE step = 2) AS conversions
    FROM matched
    WHERE step = 2 OR (step = 1 AND case_id IS NULL)
    GROUP BY customer_id
),

looked_up AS (
    SELECT
        c.*,
        coalesce(greatest(l.n_caseless, l.n_conversions) > $list_max, false) AS deferred,
        CASE WHEN coalesce(l.n_caseless <= $list_max, true) THEN
            CASE WHEN $by_method
                 THEN list_min(list_transform(
                     list_filter(l.caseless_by, lambda f: f.method = c.method AND f.ts >= c.t0),
                     lambda f: f.ts))
                 ELSE list_min(list_filter(l.caseless, lambda t: t >= c.t0)) END
        END AS t_caseless,
        CASE WHEN coalesce(l.n_conversions <= $list_max, true)
             THEN list_min(list_filter(l.conversions, lambda t: t >= c.t0)) END AS t_conv
    FROM (SELECT * FROM cases WHERE NOT $robust) AS c
    LEFT JOIN customer_lists AS l ON l.customer_id = c.customer_id
    UNION ALL
    SELECT c.*, false AS deferred, f.ts AS t_caseless, v.ts AS t_conv
    FROM (SELECT * FROM cases WHERE $robust) AS c
    ASOF LEFT JOIN caseless AS f
        ON f.customer_id = c.customer_id AND f.method = c.method AND f.ts >= c.t0
    ASOF LEFT JOIN conversions AS v
        ON v.customer_id = c.customer_id AND v.ts >= c.t0
),

per_case AS (
    SELECT
        method,
        CASE WHEN epoch_us(least(t_case, t_caseless)) - epoch_us(t0) <= $win_us
             THEN (epoch_us(least(t_case, t_caseless)) - epoch_us(t0)) / 6e7
        END AS latency_min,
        coalesce(epoch_us(t_conv) - epoch_us(t0) <= $win_us, false) AS converted,
        deferred,
        customer_id,
        t0,
        s1, s2, s3, s4
    FROM looked_up
),

-- the strata values of each case: strings for event, attribute and customer variables; the
-- local 6-hour band and the weekend flag of the opening only when a slot uses them. The stratum
-- label is spelled out after counting (on a few hundred rows, not one per case)
valued AS (
    SELECT
        pc.method,
        -- -1: no follow-up within the window; i: latency in (upper[i-1], upper[i]] minutes
        CASE WHEN pc.latency_min IS NULL THEN -1
             ELSE len(list_filter($uppers, lambda u: pc.latency_min > u)) END AS bucket,
        pc.latency_min,
        pc.converted,
        pc.deferred,
        CASE $s1_kind
            WHEN 'event' THEN coalesce(pc.s1, CASE WHEN $s1_fallback
                                              THEN CAST(cu.{{s1_ccol}} AS VARCHAR) END)
            WHEN 'attr' THEN pc.s1
            WHEN 'customer' THEN CAST(cu.{{s1_ccol}} AS VARCHAR)
        END AS v1,
        CASE $s2_kind
            WHEN 'event' THEN coalesce(pc.s2, CASE WHEN $s2_fallback
                                              THEN CAST(cu.{{s2_ccol}} AS VARCHAR) END)
            WHEN 'attr' THEN pc.s2
            WHEN 'customer' THEN CAST(cu.{{s2_ccol}} AS VARCHAR)
        END AS v2,
        CASE $s3_kind
            WHEN 'event' THEN coalesce(pc.s3, CASE WHEN $s3_fallback
                                              THEN CAST(cu.{{s3_ccol}} AS VARCHAR) END)
            WHEN 'attr' THEN pc.s3
            WHEN 'customer' THEN CAST(cu.{{s3_ccol}} AS VARCHAR)
        END AS v3,
        CASE $s4_kind
            WHEN 'event' THEN coalesce(pc.s4, CASE WHEN $s4_fallback
                                              THEN CAST(cu.{{s4_ccol}} AS VARCHAR) END)
            WHEN 'attr' THEN pc.s4
            WHEN 'customer' THEN CAST(cu.{{s4_ccol}} AS VARCHAR)
        END AS v4,
        CASE WHEN 'hour' IN ($s1_kind, $s2_kind, $s3_kind, $s4_kind)
             THEN 6 * (hour(timezone($tz, pc.t0::TIMESTAMPTZ)) // 6) END AS hour_band,
        CASE WHEN 'weekday' IN ($s1_kind, $s2_kind, $s3_kind, $s4_kind)
             THEN isodow(timezone($tz, pc.t0::TIMESTAMPTZ)) >= 6 END AS weekend
    FROM per_case AS pc
    -- customers only when a stratum reads them (otherwise an empty relation)
    LEFT JOIN (SELECT * FROM customers WHERE $use_customers) AS cu
        ON cu.customer_id = pc.customer_id
),

counted AS (
    SELECT
        method, bucket, v1, v2, v3, v4, hour_band, weekend,
        count(*) AS cases,
        count(*) FILTER (WHERE converted) AS conversions,
        sum(latency_min) AS latency_sum,
        count(*) FILTER (WHERE deferred) AS n_deferred
    FROM valued
    WHERE $has_strata
    GROUP BY ALL
),

-- strata labelled: values joined with ' | ' (missing ones left out, so different value
-- combinations can share a label and are counted together); without strata the one label ''
-- (counted directly: constant group keys would still be hashed)
final AS (
    SELECT
        method,
        bucket,
        '' AS stratum,
        count(*) AS cases,
        count(*) FILTER (WHERE converted) AS conversions,
        sum(latency_min) AS latency_sum,
        count(*) FILTER (WHERE deferred) AS deferred
    FROM valued
    WHERE NOT $has_strata
    GROUP BY method, bucket
    UNION ALL
    SELECT
        method,
        bucket,
        concat_ws(' | ',
            CASE $s1_kind
                WHEN 'hour' THEN lpad(CAST(hour_band AS VARCHAR), 2, '0') || 'h'
                WHEN 'weekday' THEN CASE WHEN weekend THEN 'weekend' ELSE 'weekday' END
                ELSE v1
            END,
            CASE $s2_kind
                WHEN 'hour' THEN lpad(CAST(hour_band AS VARCHAR), 2, '0') || 'h'
                WHEN 'weekday' THEN CASE WHEN weekend THEN 'weekend' ELSE 'weekday' END
                ELSE v2
            END,
            CASE $s3_kind
                WHEN 'hour' THEN lpad(CAST(hour_band AS VARCHAR), 2, '0') || 'h'
                WHEN 'weekday' THEN CASE WHEN weekend THEN 'weekend' ELSE 'weekday' END
                ELSE v3
            END,
            CASE $s4_kind
                WHEN 'hour' THEN lpad(CAST(hour_band AS VARCHAR), 2, '0') || 'h'
                WHEN 'weekday' THEN CASE WHEN weekend THEN 'weekend' ELSE 'weekday' END
                ELSE v4
            END
        ) AS stratum,
        CAST(sum(cases) AS BIGINT) AS cases,
        CAST(sum(conversions) AS BIGINT) AS conversions,
        sum(latency_sum) AS latency_sum,
        CAST(sum(n_deferred) AS BIGINT) AS deferred
    FROM counted
    GROUP BY method, bucket, stratum
)

SELECT * FROM final
ORDER BY method, bucket, stratum
