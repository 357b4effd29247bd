-- Funnel with the steps in any order; semantics in docs/funnel-semantics.md.
-- Every event matching any step (in [$start, $end)) opens an attempt; the attempt completes as
-- many steps as distinct events in [entry, entry + window] can fill, one event per step (the size
-- of a maximum matching between steps and events, by Hall's theorem:
-- K - max over step subsets T of (|T| - #events matching a step in T)).
-- One row per (grp, k) where k counts completed steps (kind 'step'), in the funnel.sql layout.
WITH

-- import CTEs ----------------------------------------------------------------------------------
step_defs AS (
    SELECT unnest(from_json($steps, '[{"step": "INTEGER", "event": "VARCHAR",
        "conds": [{"col": "VARCHAR", "path": "VARCHAR", "vals": ["VARCHAR"]}]}]'),
        recursive := true)
),

data_end AS (
    SELECT max(ts) AS ts FROM events
),

-- logic CTEs -----------------------------------------------------------------------------------
matched AS (
    SELECT
        e.{{unit}} AS unit,
        e.customer_id,
        e.event_id,
        e.ts,
        s.step,
        CASE $by_kind
            WHEN 'event' THEN CAST(e.{{by_col}} AS VARCHAR)
            WHEN 'attr' THEN json_extract_string(e.attrs, $by_path)
        END AS grp_event
    FROM events AS e
    INNER JOIN step_defs AS s ON e.event = s.event
    WHERE e.{{unit}} IS NOT NULL
        AND
            -- {{>step_conditions row=e defs=s}}
),

-- one row per event with the bit mask of the steps it can fill
masked AS (
    SELECT
        unit,
        event_id,
        any_value(customer_id) AS customer_id,
        any_value(ts) AS ts,
        any_value(grp_event) AS grp_event,
        bit_or(CAST(1 AS BIGINT) << (step - 1)) AS mask
    FROM matched
    GROUP BY unit, event_id
),

-- how many events of each mask fall in [ts, ts + window] (peers at the same ts included)
windowed AS (
    SELECT
        *,
        map_entries(histogram(mask) OVER (
            PARTITION BY unit ORDER BY ts
            RANGE BETWEEN CURRENT ROW AND $window FOLLOWING
        )) AS in_window
    FROM masked
),

entries AS (
    SELECT *
    FROM windowed
    WHERE ($start IS NULL OR ts >= $start) AND ($end IS NULL OR ts < $end)
    QUALIFY $entry = 'every'
        OR row_number() OVER (PARTITION BY unit ORDER BY ts, event_id) = 1
),

attempts AS (
    SELECT
        en.unit,
        en.customer_id,
        en.event_id AS entry_id,
        en.ts AS t_entry,
        en.grp_event,
        $n_steps - greatest(0, list_max(list_transform(
            range(1, CAST(1 AS BIGINT) << $n_steps),
            lambda t: bit_count(t) - coalesce(list_sum(list_transform(
                list_filter(en.in_window, lambda m: (m.key & t) <> 0), lambda m: m.value)), 0)
        ))) AS furthest
    FROM entries AS en
),

kept AS (
    SELECT
        a.*,
        a.furthest < $n_steps
            AND epoch_us(a.t_entry) + $win_us[$n_steps] > epoch_us(d.ts) AS is_open,
        row_number() OVER (
            PARTITION BY a.unit
            ORDER BY
                a.furthest DESC,
                CASE WHEN $attempt = 'latest' THEN -epoch_us(a.t_entry)
                     ELSE epoch_us(a.t_entry) END ASC,
                CASE WHEN $attempt = 'latest' THEN -a.entry_id ELSE a.entry_id END ASC
        ) AS attempt_rank,
        row_number() OVER (PARTITION BY a.unit ORDER BY a.t_entry, a.entry_id) AS entry_rank
    FROM attempts AS a
    CROSS JOIN data_end AS d
),

units AS (
    SELECT
        k.unit,
        max(k.furthest) AS furthest,
        bool_or(k.is_open) AS any_open,
        arg_min_null(k.grp_event, k.entry_rank) AS grp_first,
        arg_min_null(k.grp_event, k.attempt_rank) AS grp_attempt,
        arg_min(k.customer_id, k.attempt_rank) AS customer_id
    FROM kept AS k
    GROUP BY k.unit
),

grouped AS (
    SELECT
        coalesce(CASE
            WHEN $by_kind = 'none' THEN 'all'
            WHEN $by_kind = 'customer' THEN CAST(cu.{{by_ccol}} AS VARCHAR)
            WHEN $attribution = 'first_touch' THEN u.grp_first
            ELSE u.grp_attempt
        END, '(none)') AS grp,
        u.furthest,
        u.furthest < $n_steps AND u.any_open AS in_progress
    FROM units AS u
    LEFT JOIN customers AS cu ON $by_kind = 'customer' AND cu.customer_id = u.customer_id
),

final AS (
    SELECT
        'step' AS kind,
        g.grp,
        k.step,
        count(*) AS reached,
        count(*) FILTER (WHERE g.furthest = k.step AND g.in_progress) AS stopped_open,
        count(*) FILTER (WHERE g.furthest = k.step AND NOT g.in_progress) AS stopped_closed
    FROM grouped AS g
    INNER JOIN (SELECT unnest(range(1, $n_steps + 1)) AS step) AS k ON k.step <= g.furthest
    GROUP BY g.grp, k.step
)

SELECT * FROM final
ORDER BY grp, step
