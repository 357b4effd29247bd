-- The dashboard's headline figures for the current slice of data: customers in view, customers
-- with a case event (e.g. a quote), customers with a conversion event (e.g. a purchase), their
-- conversion, and the value of the conversion events.
WITH

-- import CTEs ----------------------------------------------------------------------------------
in_view AS (
    SELECT customer_id FROM customers
),

activity AS (
    SELECT customer_id, event, value FROM events
),

-- logic CTEs -----------------------------------------------------------------------------------
per_customer AS (
    SELECT
        customer_id,
        bool_or(event = $case_event) AS has_case,
        bool_or(event = $conversion_event) AS has_conversion,
        sum(value) FILTER (WHERE event = $conversion_event) AS conversion_value
    FROM activity
    GROUP BY customer_id
),

final AS (
    SELECT
        (SELECT count(*) FROM in_view) AS customers,
        count(*) FILTER (WHERE has_case) AS with_case,
        count(*) FILTER (WHERE has_conversion) AS converted,
        count(*) FILTER (WHERE has_case AND has_conversion) AS converted_with_case,
        coalesce(sum(conversion_value), 0) AS conversion_value
    FROM per_customer
)

SELECT * FROM final
