-- Funnel through ordered steps ($order = 'ordered' or 'strict'); semantics in
-- docs/funnel-semantics.md. One row per (grp, step) with counts, the value and timing of the event
-- that filled the step on each unit's counted attempt (kind 'step'), plus aggregated durations
-- for the Kaplan-Meier curve (kind 'km'; times, values and km only when $detail) and the units
-- every attempt of which was excluded (kind 'excluded').
-- Identifiers: {{unit}} (customer_id | case_id), {{by_col}} (events column), {{by_ccol}}
-- (customers column). Windows are microsecond deadlines from the entry: $win_us[k] for step k.
WITH RECURSIVE

-- import CTEs ----------------------------------------------------------------------------------
step_defs AS (
    SELECT unnest(from_json($steps, '[{"step": "INTEGER", "event": "VARCHAR",
        "conds": [{"col": "VARCHAR", "path": "VARCHAR", "vals": ["VARCHAR"]}]}]'),
        recursive := true)
),

exclusion_defs AS (
    SELECT unnest(from_json($exclude, '[{"step": "INTEGER", "event": "VARCHAR",
        "conds": [{"col": "VARCHAR", "path": "VARCHAR", "vals": ["VARCHAR"]}]}]'),
        recursive := true)
),

data_end AS (
    SELECT max(ts) AS ts FROM events
),

-- logic CTEs -----------------------------------------------------------------------------------
-- one row per (event, step it matches); an event may match several steps
matched AS MATERIALIZED (
    SELECT
        e.{{unit}} AS unit,
        e.customer_id,
        e.event_id,
        e.ts,
        s.step,
        e.value,
        CASE $by_kind
            WHEN 'event' THEN CAST(e.{{by_col}} AS VARCHAR)
            WHEN 'attr' THEN json_extract_string(e.attrs, $by_path)
        END AS grp_event
    FROM events AS e
    INNER JOIN step_defs AS s ON e.event = s.event
    WHERE e.{{unit}} IS NOT NULL
        -- ($plain_steps: no step has conditions, so no column but event is read)
        AND ($plain_steps OR
            -- {{>step_conditions row=e defs=s}}
        )
),

-- strict: each event's immediate successor among the unit's events (ties by event_id)
successors AS MATERIALIZED (
    SELECT
        event_id,
        lead(event_id) OVER (PARTITION BY {{unit}} ORDER BY ts, event_id) AS next_id
    FROM events
    WHERE $order = 'strict' AND {{unit}} IS NOT NULL
),

-- every occurrence of step 1 in [$start, $end) opens an attempt ($entry = 'first': the first)
entries AS MATERIALIZED (
    SELECT
        unit, customer_id, event_id AS entry_id, ts AS t_entry, value, grp_event,
        row_number() OVER (PARTITION BY unit ORDER BY ts, event_id) AS entry_rank
    FROM matched
    WHERE step = 1
        AND ($start IS NULL OR ts >= $start)
        AND ($end IS NULL OR ts < $end)
    QUALIFY $entry = 'every' OR entry_rank = 1
),

-- {{@chain}}

exclusion_events AS (
    SELECT e.{{unit}} AS unit, e.event_id, e.ts
    FROM events AS e
    INNER JOIN exclusion_defs AS x ON e.event = x.event
    WHERE $has_exclusions AND e.{{unit}} IS NOT NULL
        AND
            -- {{>step_conditions row=e defs=x}}
),

-- an exclusion event (other than the entry itself) from the entry to the attempt's completion,
-- or to the end of its window when it did not complete, removes the attempt
excluded AS (
    SELECT DISTINCT a.unit, a.entry_id
    FROM attempts AS a
    INNER JOIN exclusion_events AS x
        ON x.unit = a.unit
        AND x.ts >= a.t_entry
        AND x.event_id <> a.entry_id
        AND epoch_us(x.ts) <= CASE WHEN a.furthest = $n_steps THEN epoch_us(a.t_last)
                                    ELSE epoch_us(a.t_entry) + $win_us[$n_steps] END
    WHERE $has_exclusions
),

kept AS (
    SELECT
        a.*,
        -- still open: not complete, the next step's deadline is after the data end, and (strict)
        -- no other event has followed its last filled step yet
        a.furthest < $n_steps
            AND epoch_us(a.t_entry) + $win_us[a.furthest + 1] > epoch_us(d.ts)
            AND ($order <> 'strict' OR sc.next_id IS NULL) AS is_open
    FROM attempts AS a
    CROSS JOIN data_end AS d
    LEFT JOIN successors AS sc ON sc.event_id = a.last_id
    ANTI JOIN excluded AS x ON x.unit = a.unit AND x.entry_id = a.entry_id
),

-- per unit: the furthest step, whether any attempt is open, the first attempt's breakdown value
-- and the counted attempt: the furthest, then ($attempt = 'latest') the first to get there and the
-- latest entry, or ('earliest') the earliest entry. The order is packed into one HUGEINT:
-- [255 - furthest | t_last in microseconds + 2^53 | entry rank (reversed for 'latest')].
ordered_attempts AS (
    SELECT
        *,
        (CAST(255 - furthest AS HUGEINT) << 96)
        + CASE WHEN $attempt = 'latest'
               THEN (CAST(epoch_us(t_last) + 9007199254740992 AS HUGEINT) << 32)
                    + (4294967295 - entry_rank)
               ELSE entry_rank END AS attempt_key
    FROM kept
),

units AS (
    SELECT
        unit,
        max(furthest) AS furthest,
        bool_or(is_open) AS any_open,
        arg_min_null(grp_event, entry_rank) AS grp_first,
        arg_min_null(grp_event, attempt_key) AS grp_attempt,
        arg_min(customer_id, attempt_key) AS customer_id,
        arg_min(entry_id, attempt_key) AS entry_id,
        arg_min(t_entry, attempt_key) AS t_entry,
        arg_min(t_last, attempt_key) AS t_last
    FROM ordered_attempts
    GROUP BY unit
),

grouped AS (
    SELECT
        u.unit,
        u.furthest,
        u.entry_id,
        u.t_entry,
        u.t_last,
        coalesce(CASE
            WHEN $by_kind = 'none' THEN 'all'
            WHEN $by_kind = 'customer' THEN CAST(cu.{{by_ccol}} AS VARCHAR)
            WHEN $attribution = 'first_touch' THEN u.grp_first
            ELSE u.grp_attempt
        END, '(none)') AS grp,
        u.furthest < $n_steps AND u.any_open AS in_progress
    FROM units AS u
    LEFT JOIN customers AS cu
        ON $by_kind = 'customer' AND cu.customer_id = u.customer_id
),

-- the steps of each unit's counted attempt (times and values only when $detail)
counted_steps AS (
    SELECT
        g.grp,
        c.step,
        c.value,
        g.furthest,
        g.in_progress,
        (epoch_us(c.t_step) - epoch_us(g.t_entry)) / 1e6 AS s_from_entry,
        (epoch_us(c.t_step) - epoch_us(c.t_prev)) / 1e6 AS s_from_previous
    FROM grouped AS g
    INNER JOIN chain AS c ON c.unit = g.unit AND c.entry_id = g.entry_id
    WHERE $detail
    UNION ALL
    SELECT
        grp, step, NULL AS value, furthest, in_progress, NULL AS s_from_entry,
        NULL AS s_from_previous
    FROM (SELECT *, unnest(range(1, furthest + 1)) AS step FROM grouped WHERE NOT $detail)
),

step_rows AS (
    SELECT
        'step' AS kind,
        grp,
        step,
        count(*) AS reached,
        count(*) FILTER (WHERE furthest = step AND in_progress) AS stopped_open,
        count(*) FILTER (WHERE furthest = step AND NOT in_progress) AS stopped_closed,
        sum(value) AS value_sum,
        count(value) AS value_n,
        avg(s_from_entry) AS mean_s,
        quantile_cont(s_from_entry, 0.25) AS p25_s,
        quantile_cont(s_from_entry, 0.5) AS median_s,
        quantile_cont(s_from_entry, 0.75) AS p75_s,
        quantile_cont(s_from_entry, 0.95) AS p95_s,
        avg(s_from_previous) AS mean_step_s,
        quantile_cont(s_from_previous, 0.25) AS p25_step_s,
        quantile_cont(s_from_previous, 0.5) AS median_step_s,
        quantile_cont(s_from_previous, 0.75) AS p75_step_s,
        quantile_cont(s_from_previous, 0.95) AS p95_step_s,
        CAST(NULL AS DOUBLE) AS km_s,
        CAST(NULL AS BIGINT) AS km_events,
        CAST(NULL AS BIGINT) AS km_censored
    FROM counted_steps
    GROUP BY grp, step
),

-- time from entry to the last step (converters) or to min(entry + window, data end) (censored),
-- rounded to $km_res_s seconds (events up, censorings down)
km_units AS (
    SELECT
        g.grp,
        g.furthest = $n_steps AS converted,
        CASE WHEN g.furthest = $n_steps
             THEN ceil((epoch_us(g.t_last) - epoch_us(g.t_entry)) / 1e6 / $km_res_s)
             ELSE floor(least($win_us[$n_steps], epoch_us(d.ts) - epoch_us(g.t_entry))
                        / 1e6 / $km_res_s)
        END * $km_res_s AS km_s
    FROM grouped AS g
    CROSS JOIN data_end AS d
    WHERE $n_steps > 1 AND $detail
),

km_rows AS (
    SELECT
        'km' AS kind, grp, CAST(NULL AS INTEGER) AS step, CAST(NULL AS BIGINT) AS reached,
        CAST(NULL AS BIGINT) AS stopped_open, CAST(NULL AS BIGINT) AS stopped_closed,
        CAST(NULL AS DOUBLE) AS value_sum, CAST(NULL AS BIGINT) AS value_n,
        NULL AS mean_s, NULL AS p25_s, NULL AS median_s, NULL AS p75_s, NULL AS p95_s,
        NULL AS mean_step_s, NULL AS p25_step_s, NULL AS median_step_s, NULL AS p75_step_s,
        NULL AS p95_step_s,
        km_s,
        count(*) FILTER (WHERE converted) AS km_events,
        count(*) FILTER (WHERE NOT converted) AS km_censored
    FROM km_units
    GROUP BY grp, km_s
),

excluded_rows AS (
    SELECT
        'excluded' AS kind, 'all' AS grp, CAST(NULL AS INTEGER) AS step,
        count(DISTINCT a.unit) AS reached,
        NULL AS stopped_open, NULL AS stopped_closed, NULL AS value_sum, NULL AS value_n,
        NULL AS mean_s, NULL AS p25_s, NULL AS median_s, NULL AS p75_s, NULL AS p95_s,
        NULL AS mean_step_s, NULL AS p25_step_s, NULL AS median_step_s, NULL AS p75_step_s,
        NULL AS p95_step_s, NULL AS km_s, NULL AS km_events, NULL AS km_censored
    FROM attempts AS a
    ANTI JOIN units AS u ON u.unit = a.unit
),

final AS (
    SELECT * FROM step_rows
    UNION ALL BY NAME
    SELECT * FROM km_rows
    UNION ALL BY NAME
    SELECT * FROM excluded_rows
)

SELECT * FROM final
ORDER BY kind, grp, step, km_s
