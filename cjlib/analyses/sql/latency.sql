-- Follow-up latency and conversion per case (docs/funnel-semantics.md, "Latency effect").
-- A case is a case_id of the case event (or one case-event occurrence when it has no case_id),
-- opened at its first occurrence. Latency = time to the first follow-up at or after the opening,
-- within the window: a follow-up carrying a case_id counts for that case only; one without
-- counts for every open case of its customer. Outcome = a conversion event by the customer
-- within [opened, opened + window]. Output: counts per (method, latency bucket, stratum).
-- Strata slots s1..s4: $sN_kind in ('none', 'event', 'attr', 'customer', 'hour', 'weekday').
WITH

-- import CTEs ----------------------------------------------------------------------------------
defs AS (
    SELECT unnest(from_json($defs, '[{"role": "VARCHAR", "label": "VARCHAR",
        "event": "VARCHAR",
        "conds": [{"col": "VARCHAR", "path": "VARCHAR", "vals": ["VARCHAR"]}]}]'),
        recursive := true)
),

-- logic CTEs -----------------------------------------------------------------------------------
matched AS MATERIALIZED (
    SELECT
        d.role,
        d.label,
        e.event_id,
        e.customer_id,
        e.case_id,
        e.ts,
        CASE $s1_kind WHEN 'event' THEN CAST(e.{{s1_col}} AS VARCHAR)
                      WHEN 'attr' THEN json_extract_string(e.attrs, $s1_path) END AS s1,
        CASE $s2_kind WHEN 'event' THEN CAST(e.{{s2_col}} AS VARCHAR)
                      WHEN 'attr' THEN json_extract_string(e.attrs, $s2_path) END AS s2,
        CASE $s3_kind WHEN 'event' THEN CAST(e.{{s3_col}} AS VARCHAR)
                      WHEN 'attr' THEN json_extract_string(e.attrs, $s3_path) END AS s3,
        CASE $s4_kind WHEN 'event' THEN CAST(e.{{s4_col}} AS VARCHAR)
                      WHEN 'attr' THEN json_extract_string(e.attrs, $s4_path) END AS s4
    FROM events AS e
    INNER JOIN defs AS d ON e.event = d.event
    WHERE len(list_filter(d.conds, lambda c: NOT coalesce(list_contains(c.vals,
            CASE c.col
                WHEN 'channel' THEN e.channel WHEN 'source' THEN e.source
                WHEN 'case_id' THEN e.case_id WHEN 'outcome' THEN e.outcome
                WHEN 'kind' THEN e.kind WHEN 'feed' THEN e.feed WHEN 'phase' THEN e.phase
                ELSE json_extract_string(e.attrs, c.path)
            END), false))) = 0
),

cases AS (
    SELECT
        coalesce(case_id, 'event:' || event_id) AS case_key,
        arg_min_null(case_id, (ts, event_id)) AS case_id,
        arg_min(customer_id, (ts, event_id)) AS customer_id,
        min(ts) AS t0,
        arg_min_null(s1, (ts, event_id)) AS s1,
        arg_min_null(s2, (ts, event_id)) AS s2,
        arg_min_null(s3, (ts, event_id)) AS s3,
        arg_min_null(s4, (ts, event_id)) AS s4
    FROM matched
    WHERE role = 'case'
        AND ($start IS NULL OR ts >= $start) AND ($end IS NULL OR ts < $end)
    GROUP BY coalesce(case_id, 'event:' || event_id)
),

followups AS (
    SELECT
        CASE WHEN $by_method THEN label ELSE 'any' END AS method,
        customer_id,
        case_id,
        ts
    FROM matched
    WHERE role = 'followup'
),

methods AS (
    SELECT DISTINCT CASE WHEN $by_method THEN label ELSE 'any' END AS method
    FROM defs
    WHERE role = 'followup'
),

case_methods AS (
    SELECT c.*, m.method
    FROM cases AS c
    CROSS JOIN methods AS m
),

-- follow-ups that name the case
by_case AS (
    SELECT cm.case_key, cm.method, min(f.ts) AS t_follow
    FROM case_methods AS cm
    INNER JOIN followups AS f
        ON f.case_id = cm.case_id AND f.method = cm.method AND f.ts >= cm.t0
    GROUP BY cm.case_key, cm.method
),

-- follow-ups without a case_id: the customer's first one at or after the opening
by_customer AS (
    SELECT cm.case_key, cm.method, f.ts AS t_follow
    FROM case_methods AS cm
    ASOF INNER JOIN (SELECT * FROM followups WHERE case_id IS NULL) AS f
        ON f.customer_id = cm.customer_id AND f.method = cm.method AND f.ts >= cm.t0
),

conversions AS (
    SELECT customer_id, ts FROM matched WHERE role = 'conversion'
),

first_conversion AS (
    SELECT c.case_key, v.ts AS t_conv
    FROM cases AS c
    ASOF INNER JOIN conversions AS v ON v.customer_id = c.customer_id AND v.ts >= c.t0
),

per_case AS (
    SELECT
        cm.method,
        cm.case_key,
        CASE WHEN epoch_us(least(bc.t_follow, bu.t_follow)) - epoch_us(cm.t0) <= $win_us
             THEN (epoch_us(least(bc.t_follow, bu.t_follow)) - epoch_us(cm.t0)) / 6e7
        END AS latency_min,
        coalesce(epoch_us(fc.t_conv) - epoch_us(cm.t0) <= $win_us, false) AS converted,
        concat_ws(' | ',
            CASE $s1_kind
                WHEN 'event' THEN coalesce(cm.s1, CASE WHEN $s1_fallback
                                       THEN CAST(cu.{{s1_ccol}} AS VARCHAR) END)
                WHEN 'attr' THEN cm.s1
                WHEN 'customer' THEN CAST(cu.{{s1_ccol}} AS VARCHAR)
                WHEN 'hour' THEN lpad(CAST(6 * (hour(timezone($tz, cm.t0::TIMESTAMPTZ)) // 6)
                                           AS VARCHAR), 2, '0') || 'h'
                WHEN 'weekday' THEN CASE WHEN isodow(timezone($tz, cm.t0::TIMESTAMPTZ)) >= 6
                                         THEN 'weekend' ELSE 'weekday' END
            END,
            CASE $s2_kind
                WHEN 'event' THEN coalesce(cm.s2, CASE WHEN $s2_fallback
                                       THEN CAST(cu.{{s2_ccol}} AS VARCHAR) END)
                WHEN 'attr' THEN cm.s2
                WHEN 'customer' THEN CAST(cu.{{s2_ccol}} AS VARCHAR)
                WHEN 'hour' THEN lpad(CAST(6 * (hour(timezone($tz, cm.t0::TIMESTAMPTZ)) // 6)
                                           AS VARCHAR), 2, '0') || 'h'
                WHEN 'weekday' THEN CASE WHEN isodow(timezone($tz, cm.t0::TIMESTAMPTZ)) >= 6
                                         THEN 'weekend' ELSE 'weekday' END
            END,
            CASE $s3_kind
                WHEN 'event' THEN coalesce(cm.s3, CASE WHEN $s3_fallback
                                       THEN CAST(cu.{{s3_ccol}} AS VARCHAR) END)
                WHEN 'attr' THEN cm.s3
                WHEN 'customer' THEN CAST(cu.{{s3_ccol}} AS VARCHAR)
                WHEN 'hour' THEN lpad(CAST(6 * (hour(timezone($tz, cm.t0::TIMESTAMPTZ)) // 6)
                                           AS VARCHAR), 2, '0') || 'h'
                WHEN 'weekday' THEN CASE WHEN isodow(timezone($tz, cm.t0::TIMESTAMPTZ)) >= 6
                                         THEN 'weekend' ELSE 'weekday' END
            END,
            CASE $s4_kind
                WHEN 'event' THEN coalesce(cm.s4, CASE WHEN $s4_fallback
                                       THEN CAST(cu.{{s4_ccol}} AS VARCHAR) END)
                WHEN 'attr' THEN cm.s4
                WHEN 'customer' THEN CAST(cu.{{s4_ccol}} AS VARCHAR)
                WHEN 'hour' THEN lpad(CAST(6 * (hour(timezone($tz, cm.t0::TIMESTAMPTZ)) // 6)
                                           AS VARCHAR), 2, '0') || 'h'
                WHEN 'weekday' THEN CASE WHEN isodow(timezone($tz, cm.t0::TIMESTAMPTZ)) >= 6
                                         THEN 'weekend' ELSE 'weekday' END
            END
        ) AS stratum
    FROM case_methods AS cm
    LEFT JOIN by_case AS bc ON bc.case_key = cm.case_key AND bc.method = cm.method
    LEFT JOIN by_customer AS bu ON bu.case_key = cm.case_key AND bu.method = cm.method
    LEFT JOIN first_conversion AS fc ON fc.case_key = cm.case_key
    LEFT JOIN customers AS cu ON cu.customer_id = cm.customer_id
),

final AS (
    SELECT
        method,
        -- -1: no follow-up within the window; i: latency in (upper[i-1], upper[i]] minutes
        CASE WHEN latency_min IS NULL THEN -1
             ELSE len(list_filter($uppers, lambda u: latency_min > u)) END AS bucket,
        stratum,
        count(*) AS cases,
        count(*) FILTER (WHERE converted) AS conversions,
        sum(latency_min) AS latency_sum
    FROM per_case
    GROUP BY ALL
)

SELECT * FROM final
ORDER BY method, bucket, stratum
