-- How many of the ingest tables data health reads ($names) exist in this database.
WITH tables_ AS (
    SELECT DISTINCT table_name FROM duckdb_tables()
), final AS (
    SELECT count(*) AS n FROM tables_ WHERE list_contains($names, table_name)
)
SELECT n FROM final
