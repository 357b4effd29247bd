-- Dose-response of a case duration on an outcome. Case = case_id with a $start event; its start
-- is the first $start (ts, event_id), its end the first $end event of the same case at or after
-- the start. Duration = end - start in seconds, floored to $resolution_s. Outcome = any $outcome
-- event of the same customer within [anchor, anchor + $within], anchor = start (or end when
-- $anchor_end). Cases whose outcome window is still open at $data_end are in progress; cases
-- without an end have a NULL duration (and, with $anchor_end, no outcome window).
WITH firsts AS (
    SELECT case_id, customer_id, ts, event_id,
           row_number() OVER (PARTITION BY case_id ORDER BY ts, event_id) AS nth
    FROM events
    WHERE event = $start AND case_id IS NOT NULL
),

starts AS (
    SELECT case_id, customer_id, ts AS t_start FROM firsts WHERE nth = 1
),

ends AS (
    SELECT s.case_id, min(e.ts) AS t_end
    FROM starts s
    JOIN events e ON e.case_id = s.case_id AND e.event = $end AND e.ts >= s.t_start
    GROUP BY s.case_id
),

cases AS (
    SELECT s.case_id, s.customer_id, s.t_start, e.t_end,
           CASE WHEN $anchor_end THEN e.t_end ELSE s.t_start END AS t_anchor
    FROM starts s
    LEFT JOIN ends e USING (case_id)
),

hits AS (
    SELECT c.case_id
    FROM cases c
    JOIN events o ON o.customer_id = c.customer_id AND o.event = $outcome
                 AND o.ts >= c.t_anchor AND o.ts <= c.t_anchor + $within::INTERVAL
    GROUP BY c.case_id
),

per_case AS (
    SELECT floor(epoch(c.t_end - c.t_start) / $resolution_s) * $resolution_s AS duration_s,
           h.case_id IS NOT NULL AS outcome,
           (c.t_anchor + $within::INTERVAL > $data_end::TIMESTAMP) IS TRUE AS in_progress
    FROM cases c
    LEFT JOIN hits h USING (case_id)
),

final AS (
    SELECT duration_s,
           count(*) FILTER (WHERE NOT in_progress) AS cases,
           count(*) FILTER (WHERE outcome AND NOT in_progress) AS outcomes,
           count(*) FILTER (WHERE in_progress) AS in_progress
    FROM per_case
    GROUP BY duration_s
)

SELECT * FROM final ORDER BY duration_s NULLS LAST
