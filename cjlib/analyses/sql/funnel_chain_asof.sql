-- Funnel chain, fast path: ordered steps that are all different event names. No event can fill
-- two steps, so step k of an attempt is simply the earliest (ts, event_id) step-k event at or
-- after its step k-1: one as-of join per step over the attempts still going (reach_2 ...
-- reach_n, one funnel_chain_asof_step.sql each), with (ts, event_id) packed into one ordered key.
-- Gives the same `chain` and `attempts` as funnel_chain_general.sql. Included into funnel.sql at
-- {{@chain}}; {{last}} is the last reach_k.

step_keys AS MATERIALIZED (
    SELECT unit, step, event_id, ts, value,
           (CAST(epoch_us(ts) AS HUGEINT) << 64) + event_id AS ts_id
    FROM matched
    WHERE step > 1
),

-- every attempt at step 1 (the rows of funnel_chain_asof_step.sql)
reach_1 AS MATERIALIZED (
    SELECT
        unit, entry_id, t_entry, 1 AS step, t_entry AS t_step, CAST(NULL AS TIMESTAMP) AS t_prev,
        entry_id AS event_id, value, true AS reached
    FROM entries
),

-- {{@steps}}

-- one row per attempt and step reached (read only for the counted attempts' details)
chain AS (
    -- {{@chain_rows}}
),

attempts AS (
    SELECT
        r.unit, r.entry_id, e.entry_rank, e.customer_id, e.grp_event, r.t_entry,
        r.step AS furthest, r.t_step AS t_last, r.event_id AS last_id
    FROM {{last}} AS r
    INNER JOIN entries AS e USING (entry_id)
),
