-- Funnel chain, general path (any ordered funnel, and strict): steps may share an event, so
-- the chain is built step by step in a recursive CTE that remembers which events the attempt
-- already used at the current timestamp. Defines `chain` (one row per attempt and step reached)
-- and `attempts` (one row per attempt). Included into funnel.sql at {{@chain}}.

-- ordered: the first (lowest event_id) event of each step at each timestamp, and how many
firsts AS MATERIALIZED (
    SELECT
        unit, step, ts, count(*) AS n, min(event_id) AS event_id,
        arg_min_null(value, event_id) AS value
    FROM matched
    WHERE $order = 'ordered'
    GROUP BY unit, step, ts
),

-- ordered: all step-k events at a timestamp shared by several (rare), lowest event_id first
ties AS MATERIALIZED (
    SELECT m.unit, m.step, m.ts, list_sort(list({'id': m.event_id, 'value': m.value})) AS items
    FROM matched AS m
    SEMI JOIN firsts AS f ON f.unit = m.unit AND f.step = m.step AND f.ts = m.ts AND f.n > 1
    GROUP BY m.unit, m.step, m.ts
),

-- ordered: for each timestamp at which step k-1 can be filled, the first step-k event strictly
-- later. Targets sort before probes at equal ts; a running count of targets gives each probe
-- the rank of the next target.
ranked AS (
    SELECT
        unit, pair, ts, role, event_id, value,
        sum(1 - role) OVER (
            PARTITION BY unit, pair ORDER BY ts, role ROWS UNBOUNDED PRECEDING
        ) AS targets_so_far
    FROM (
        SELECT unit, step AS pair, ts, 1 AS role, NULL AS event_id, NULL AS value
        FROM firsts WHERE step < $n_steps
        UNION ALL
        SELECT unit, step - 1 AS pair, ts, 0 AS role, event_id, value
        FROM firsts WHERE step > 1
    )
),

next_later AS MATERIALIZED (
    SELECT p.unit, p.pair, p.ts, t.ts AS next_ts, t.event_id AS next_id, t.value AS next_value
    FROM ranked AS p
    INNER JOIN ranked AS t
        ON t.unit = p.unit AND t.pair = p.pair AND t.role = 0
        AND t.targets_so_far = p.targets_so_far + 1
    WHERE p.role = 1
),

-- strict: the step events, to look an event's successor up in
strict_matched AS (
    SELECT event_id, step, ts, value FROM matched WHERE $order = 'strict'
),

-- one row per attempt and step reached: step k is filled with the earliest (ts, event_id) event
-- matching step k that is at or after step k-1, not already used by the attempt, and within the
-- deadline of step k (strict: the unit's very next event, if it matches step k)
chain AS (
    SELECT
        unit, entry_id, entry_rank, customer_id, grp_event, t_entry, 1 AS step,
        t_entry AS t_step, CAST(NULL AS TIMESTAMP) AS t_prev, entry_id AS event_id, value,
        [entry_id] AS used_at_t
    FROM entries
    UNION ALL
    SELECT
        x.unit, x.entry_id, x.entry_rank, x.customer_id, x.grp_event, x.t_entry, x.step + 1,
        x.next_ts, x.t_step, x.next.id, x.next.value,
        CASE WHEN x.next_ts = x.t_step THEN list_append(x.used_at_t, x.next.id)
             ELSE [x.next.id] END
    FROM (
        SELECT
            c.*,
            CASE
                WHEN f.event_id IS NOT NULL AND NOT list_contains(c.used_at_t, f.event_id)
                    THEN {'id': f.event_id, 'value': f.value}
                WHEN f.event_id IS NOT NULL
                    THEN list_filter(t.items, lambda i: NOT list_contains(c.used_at_t, i.id))[1]
            END AS same,
            CASE
                WHEN same IS NOT NULL THEN same
                WHEN l.next_id IS NOT NULL THEN {'id': l.next_id, 'value': l.next_value}
                WHEN sn.event_id IS NOT NULL THEN {'id': sn.event_id, 'value': sn.value}
            END AS next,
            CASE WHEN same IS NOT NULL THEN c.t_step
                 WHEN l.next_id IS NOT NULL THEN l.next_ts
                 ELSE sn.ts END AS next_ts
        FROM chain AS c
        LEFT JOIN firsts AS f ON f.unit = c.unit AND f.step = c.step + 1 AND f.ts = c.t_step
        LEFT JOIN ties AS t ON t.unit = c.unit AND t.step = c.step + 1 AND t.ts = c.t_step
        LEFT JOIN next_later AS l ON l.unit = c.unit AND l.pair = c.step AND l.ts = c.t_step
        LEFT JOIN successors AS sc ON sc.event_id = c.event_id
        LEFT JOIN strict_matched AS sn ON sn.event_id = sc.next_id AND sn.step = c.step + 1
        WHERE c.step < $n_steps
    ) AS x
    WHERE x.next IS NOT NULL
        AND epoch_us(x.next_ts) - epoch_us(x.t_entry) <= $win_us[x.step + 1]
),

attempts AS (
    SELECT
        unit,
        entry_id,
        any_value(entry_rank) AS entry_rank,
        any_value(customer_id) AS customer_id,
        any_value(grp_event) AS grp_event,
        any_value(t_entry) AS t_entry,
        max(step) AS furthest,
        max(t_step) AS t_last,
        arg_max(event_id, step) AS last_id
    FROM chain
    GROUP BY unit, entry_id
),
