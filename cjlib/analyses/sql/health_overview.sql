-- Data health at a glance: what the warehouse holds and how the files reconcile.
-- Reads the ingest tables as well as events/customers: data health is about the ingest itself.
WITH log AS (
    SELECT feed, source_file, rows_read, accepted, rejected, duplicates
    FROM ingest_log
), events_ AS (
    SELECT ts FROM events
), customers_ AS (
    SELECT customer_id FROM customers
), file_totals AS (
    SELECT
        count(DISTINCT feed) AS feeds,
        count(*) AS files,
        coalesce(sum(rows_read), 0) AS rows_read,
        coalesce(sum(accepted), 0) AS accepted,
        coalesce(sum(rejected), 0) AS rejected,
        coalesce(sum(duplicates), 0) AS duplicates,
        count(*) FILTER (WHERE rows_read <> accepted + rejected + duplicates) AS files_not_reconciling
    FROM log
), event_totals AS (
    SELECT count(*) AS events, min(ts) AS first_ts, max(ts) AS last_ts FROM events_
), customer_totals AS (
    SELECT count(*) AS customers FROM customers_
), final AS (
    SELECT
        f.feeds, f.files, f.rows_read, f.accepted, f.rejected, f.duplicates,
        f.files_not_reconciling,
        f.accepted / nullif(f.rows_read, 0) AS accepted_share,
        e.events, c.customers, e.first_ts, e.last_ts
    FROM file_totals f, event_totals e, customer_totals c
)
SELECT * FROM final
