-- What the dashboard's filters can offer: every segment, acquisition source and channel, and
-- every event name, with how often each occurs (most frequent first within a dimension).
WITH

-- import CTEs ----------------------------------------------------------------------------------
people AS (
    SELECT segment, source FROM customers
),

activity AS (
    SELECT channel, event FROM events
),

-- logic CTEs -----------------------------------------------------------------------------------
choices AS (
    SELECT 'segment' AS dimension, segment AS value, count(*) AS n
    FROM people WHERE segment IS NOT NULL GROUP BY segment
    UNION ALL
    SELECT 'source' AS dimension, source AS value, count(*) AS n
    FROM people WHERE source IS NOT NULL GROUP BY source
    UNION ALL
    SELECT 'channel' AS dimension, channel AS value, count(*) AS n
    FROM activity WHERE channel IS NOT NULL GROUP BY channel
    UNION ALL
    SELECT 'event' AS dimension, event AS value, count(*) AS n
    FROM activity WHERE event IS NOT NULL GROUP BY event
),

final AS (
    SELECT dimension, value, n FROM choices ORDER BY dimension, n DESC, value
)

SELECT * FROM final
