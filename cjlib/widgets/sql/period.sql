-- The span of first-seen dates: the date-range filter runs on customers' first-seen time.
WITH

-- import CTEs ----------------------------------------------------------------------------------
people AS (
    SELECT first_seen FROM customers
),

-- logic CTEs -----------------------------------------------------------------------------------
final AS (
    SELECT min(first_seen) AS first_seen_min, max(first_seen) AS first_seen_max FROM people
)

SELECT * FROM final
