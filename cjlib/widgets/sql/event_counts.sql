-- How many events of each name the current slice holds: sections check what they need before
-- running an analysis, so an empty period shows a plain message instead of an error.
WITH

-- import CTEs ----------------------------------------------------------------------------------
activity AS (
    SELECT event FROM events
),

-- logic CTEs -----------------------------------------------------------------------------------
final AS (
    SELECT event, count(*) AS n FROM activity GROUP BY event
)

SELECT * FROM final
