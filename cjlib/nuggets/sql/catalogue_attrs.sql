-- The attrs keys of each event (on a repeatable sample of at most 200,000 events): how many
-- events carry a non-empty value and how many distinct values there are. Low-cardinality keys of
-- a case event are breakdown candidates; a key holding test arms marks a follow-up test.
WITH

sampled AS (
    SELECT event, attrs
    FROM events
    WHERE attrs IS NOT NULL
    USING SAMPLE reservoir(200000 ROWS) REPEATABLE (7)
),

keyed AS (
    SELECT event, unnest(json_keys(attrs)) AS key, attrs
    FROM sampled
),

valued AS (
    SELECT event, key, nullif(trim(attrs ->> key), '') AS val
    FROM keyed
),

final AS (
    SELECT
        event,
        key,
        count(*) AS n,
        count(val) AS with_value,
        count(DISTINCT val) AS n_values
    FROM valued
    GROUP BY event, key
)

SELECT * FROM final
ORDER BY event, key
