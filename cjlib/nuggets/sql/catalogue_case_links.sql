-- Events that share a case_id: for every ordered pair (event a, event b) of different event
-- names within the same case, the number of cases holding both and how many of them see b's
-- first occurrence at or after a's first occurrence. Case events (a quote, a complaint) are the
-- ones whose cases carry later events; follow-ups are the contacts that come after them.
WITH

firsts AS (
    SELECT case_id, event, min(ts) AS t
    FROM events
    WHERE case_id IS NOT NULL
    GROUP BY case_id, event
),

pairs AS (
    SELECT
        a.event AS case_event,
        b.event AS linked_event,
        count(*) AS cases,
        count(*) FILTER (WHERE b.t >= a.t) AS later
    FROM firsts AS a
    INNER JOIN firsts AS b ON a.case_id = b.case_id AND a.event <> b.event
    GROUP BY a.event, b.event
),

final AS (
    SELECT * FROM pairs
)

SELECT * FROM final
ORDER BY case_event, cases DESC, linked_event
