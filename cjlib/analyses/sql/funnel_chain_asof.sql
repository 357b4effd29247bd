-- Funnel chain, fast path: ordered steps that are all different event names. No event can fill
-- two steps, so step k of an attempt is simply the earliest (ts, event_id) step-k event at or
-- after its step k-1, and which one that is depends only on the time of step k-1. So step 2 is
-- one as-of join from the attempts, and each later step a hash join from the attempts to the
-- successor of every step-(k-1) event (succ_k: one as-of join over step events, not attempts).
-- reach_2 ... reach_n come from one funnel_chain_asof_step.sql each. Gives the same `chain` and
-- `attempts` as funnel_chain_general.sql. Included into funnel.sql at {{@chain}}; {{last}} is
-- the last reach_k.

-- per unit, step and timestamp the event an attempt takes among ties: the lowest event_id
step_events AS MATERIALIZED (
    SELECT unit, step, ts, min(event_id) AS event_id, arg_min_null(value, event_id) AS value
    FROM matched
    WHERE step > 1
    GROUP BY unit, step, ts
),

-- every attempt at step 1 (the rows of funnel_chain_asof_step.sql)
reach_1 AS MATERIALIZED (
    SELECT
        unit, entry_id, entry_rank, customer_id, grp_event, t_entry, 1 AS step,
        t_entry AS t_step, CAST(NULL AS TIMESTAMP) AS t_prev, entry_id AS event_id, value,
        true AS reached
    FROM entries
),

-- {{@steps}}

-- one row per attempt and step reached (read only for the counted attempts' details)
chain AS (
    -- {{@chain_rows}}
),

attempts AS (
    SELECT
        unit, entry_id, entry_rank, customer_id, grp_event, t_entry,
        step AS furthest, t_step AS t_last, event_id AS last_id
    FROM {{last}}
),
