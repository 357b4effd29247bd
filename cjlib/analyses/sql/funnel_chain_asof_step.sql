-- One step of the fast funnel chain (funnel_chain_asof.sql). A row of {{this}} is an attempt's
-- state after trying step {{k}}: `step`, `t_step` and `event_id` are its furthest step so far;
-- `reached`: it was filled here (then t_prev and value describe it too). The attempts that
-- reached step {{k}} - 1 in {{prev}} take the earliest step-{{k}} event at or after it
-- (-- {{@next}}: an as-of join for step 2, else the successor of their step-{{k}} - 1 event),
-- kept when it is within the step's deadline from the entry; the others pass through unchanged.
{{this}} AS MATERIALIZED (
    SELECT
        unit, entry_id, entry_rank, customer_id, grp_event, t_entry,
        CASE WHEN ok THEN {{k}} ELSE step END AS step,
        CASE WHEN ok THEN n_ts ELSE t_step END AS t_step,
        CASE WHEN ok THEN t_step END AS t_prev,
        CASE WHEN ok THEN n_id ELSE event_id END AS event_id,
        CASE WHEN ok THEN n_value END AS value,
        ok AS reached
    FROM (
        SELECT
            p.unit, p.entry_id, p.entry_rank, p.customer_id, p.grp_event, p.t_entry, p.step,
            p.t_step, p.event_id, n.ts AS n_ts, n.event_id AS n_id, n.value AS n_value,
            coalesce(epoch_us(n.ts) - epoch_us(p.t_entry) <= $win_us[{{k}}], false) AS ok
        FROM (
            SELECT unit, entry_id, entry_rank, customer_id, grp_event, t_entry, step, t_step,
                   event_id
            FROM {{prev}}
            WHERE reached
        ) AS p
        -- {{@next}}
    )
    UNION ALL BY NAME
    SELECT * FROM {{prev}} WHERE NOT reached
),
