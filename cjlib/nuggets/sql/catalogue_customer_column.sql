-- How many customers carry a value in the customers column {{col}} and how many distinct values
-- it has (a breakdown candidate when it has a few).
WITH

final AS (
    SELECT
        count(*) AS customers,
        count({{col}}) AS with_value,
        count(DISTINCT {{col}}) AS n_values
    FROM customers
)

SELECT * FROM final
