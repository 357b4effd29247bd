-- The canonical warehouse tables (DESIGN section 4). Created empty first, so a warehouse always
-- has every table even when a client sends no file of some kind.
CREATE TABLE IF NOT EXISTS events (
    event_id BIGINT, customer_id BIGINT, ts TIMESTAMP, event VARCHAR, channel VARCHAR,
    source VARCHAR, case_id VARCHAR, value DOUBLE, cost DOUBLE, duration_s DOUBLE,
    outcome VARCHAR, score DOUBLE, attrs JSON, phase VARCHAR, feed VARCHAR, kind VARCHAR,
    source_file VARCHAR, source_row BIGINT
);
CREATE TABLE IF NOT EXISTS rejects (
    feed VARCHAR, source_file VARCHAR, source_row BIGINT, "column" VARCHAR, value VARCHAR,
    code VARCHAR, reason VARCHAR, raw VARCHAR
);
CREATE TABLE IF NOT EXISTS ingest_log (
    feed VARCHAR, kind VARCHAR, source_file VARCHAR, sha256 VARCHAR, bytes BIGINT,
    rows_read BIGINT, accepted BIGINT, rejected BIGINT, duplicates BIGINT, events BIGINT,
    first_ts TIMESTAMP, last_ts TIMESTAMP
);
CREATE TABLE IF NOT EXISTS meta (key VARCHAR, value VARCHAR);
-- Written by sql/final_tables.sql (identities, stitching) and sql/customers.sql (customers).
CREATE TABLE IF NOT EXISTS identities (
    id_type VARCHAR, id_hash VARCHAR, customer_id BIGINT, n_rows BIGINT, feeds VARCHAR[]
);
CREATE TABLE IF NOT EXISTS stitching (
    feed VARCHAR, "rows" BIGINT, events BIGINT, customers BIGINT, linked_customers BIGINT,
    linked_share DOUBLE, linked_by VARCHAR[]
);
CREATE TABLE IF NOT EXISTS customers (
    customer_id BIGINT, first_seen TIMESTAMP, last_seen TIMESTAMP, n_events BIGINT,
    segment VARCHAR, region VARCHAR, source VARCHAR, first_channel VARCHAR, feeds VARCHAR[],
    id_types VARCHAR[]
);
