-- Follow-up test arms (docs/funnel-semantics.md, "Follow-up test"). A case is a case_id carried
-- by an arm-assignment event (an event whose attrs hold the arm; per customer when it has no
-- case_id); its arm is the one of its first assignment. The case starts at its first case event
-- with the same case_id (else at the assignment); it converts if the customer has a conversion
-- event within [start, start + window]. Contact cost per arm: mean `cost` of its assignment
-- events that carry one. One row per arm.
WITH

-- import CTEs ----------------------------------------------------------------------------------
defs AS (
    SELECT unnest(from_json($defs, '[{"role": "VARCHAR", "event": "VARCHAR",
        "conds": [{"col": "VARCHAR", "path": "VARCHAR", "vals": ["VARCHAR"]}]}]'),
        recursive := true)
),

-- logic CTEs -----------------------------------------------------------------------------------
assignments AS (
    SELECT
        e.event_id,
        e.customer_id,
        e.case_id,
        e.ts,
        e.cost,
        trim(json_extract_string(e.attrs, $arm_path)) AS arm
    FROM events AS e
    WHERE nullif(trim(json_extract_string(e.attrs, $arm_path)), '') IS NOT NULL
        AND ($assign_event IS NULL OR e.event = $assign_event)
        AND ($campaign IS NULL
             OR e.source = $campaign
             OR json_extract_string(e.attrs, '$.campaign') = $campaign
             OR json_extract_string(e.attrs, '$.campaign_code') = $campaign)
),

case_arms AS (
    SELECT
        coalesce(case_id, 'customer:' || customer_id) AS case_key,
        arg_min(arm, (ts, event_id)) AS arm,
        arg_min(customer_id, (ts, event_id)) AS customer_id,
        arg_min_null(case_id, (ts, event_id)) AS case_id,
        min(ts) AS t_assigned,
        count(DISTINCT arm) AS n_arms
    FROM assignments
    GROUP BY coalesce(case_id, 'customer:' || customer_id)
),

matched AS (
    SELECT d.role, e.customer_id, e.case_id, e.ts, e.value
    FROM events AS e
    INNER JOIN defs AS d ON e.event = d.event
    WHERE
        -- {{>step_conditions row=e defs=d}}
),

case_starts AS (
    SELECT case_id, min(ts) AS t_case
    FROM matched
    WHERE role = 'case' AND case_id IS NOT NULL
    GROUP BY case_id
),

cases AS (
    SELECT a.*, coalesce(s.t_case, a.t_assigned) AS t0
    FROM case_arms AS a
    LEFT JOIN case_starts AS s ON s.case_id = a.case_id
),

outcomes AS (
    SELECT
        c.case_key,
        c.arm,
        c.n_arms,
        v.ts IS NOT NULL AND epoch_us(v.ts) - epoch_us(c.t0) <= $win_us AS converted,
        v.value
    FROM cases AS c
    ASOF LEFT JOIN (SELECT customer_id, ts, value FROM matched WHERE role = 'conversion') AS v
        ON v.customer_id = c.customer_id AND v.ts >= c.t0
),

costs AS (
    SELECT arm, avg(cost) AS cost_mean, count(cost) AS cost_n
    FROM assignments
    GROUP BY arm
),

final AS (
    SELECT
        o.arm,
        count(*) AS cases,
        count(*) FILTER (WHERE o.converted) AS conversions,
        sum(o.value) FILTER (WHERE o.converted) AS value_sum,
        count(o.value) FILTER (WHERE o.converted) AS value_n,
        count(*) FILTER (WHERE o.n_arms > 1) AS mixed_cases,
        any_value(k.cost_mean) AS cost_mean,
        any_value(k.cost_n) AS cost_n
    FROM outcomes AS o
    LEFT JOIN costs AS k ON k.arm = o.arm
    GROUP BY o.arm
)

SELECT * FROM final
ORDER BY arm
