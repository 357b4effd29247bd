-- rows read = accepted + rejected + duplicates, per file (counted while staging, in stg_log),
-- with the events each file gave and their time span.
INSERT INTO ingest_log
WITH events AS (
    SELECT event_id >> 36 AS file_id, count(*) AS n, min(ts) AS first_ts, max(ts) AS last_ts
    FROM stg_events
    GROUP BY 1
)
SELECT f.feed, f.kind, f.source_file, l.sha256, l.bytes, l.rows_read, l.accepted, l.rejected,
       l.duplicates, coalesce(e.n, 0), e.first_ts, e.last_ts
FROM stg_log l
JOIN stg_files f USING (file_id)
LEFT JOIN events e USING (file_id)
ORDER BY l.file_id;
