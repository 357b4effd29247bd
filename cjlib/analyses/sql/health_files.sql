-- Files received: per file, rows read = accepted + rejected + duplicates, and the time it spans.
WITH log AS (
    SELECT feed, kind, source_file, rows_read, accepted, rejected, duplicates, events,
           first_ts, last_ts
    FROM ingest_log
), final AS (
    SELECT
        feed, kind, source_file, rows_read, accepted, rejected, duplicates, events,
        first_ts, last_ts,
        rejected / nullif(rows_read, 0) AS rejected_share,
        duplicates / nullif(rows_read, 0) AS duplicate_share,
        rows_read = accepted + rejected + duplicates AS reconciles
    FROM log
)
SELECT * FROM final
ORDER BY feed, source_file
