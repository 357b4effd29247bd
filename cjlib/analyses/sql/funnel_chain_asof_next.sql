-- Step {{k}} (> 2) of the fast funnel chain: the successor of the attempt's step-{{k}} - 1 event,
-- found once per step event rather than once per attempt.
LEFT JOIN (
    SELECT s.unit, s.ts AS t_from, n.ts, n.event_id, n.value
    FROM (SELECT unit, ts FROM step_events WHERE step = {{k}} - 1) AS s
    ASOF INNER JOIN (SELECT unit, ts, event_id, value FROM step_events WHERE step = {{k}}) AS n
        ON n.unit = s.unit AND n.ts >= s.ts
) AS n ON n.unit = p.unit AND n.t_from = p.t_step
