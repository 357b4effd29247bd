-- Step 2 of the fast funnel chain: the earliest step-2 event at or after the entry (ties were
-- resolved in step_events, so the as-of join sees one event per unit and timestamp).
ASOF LEFT JOIN (SELECT unit, ts, event_id, value FROM step_events WHERE step = 2) AS n
    ON n.unit = p.unit AND n.ts >= p.t_step
