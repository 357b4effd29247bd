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

-- Staging (temporary: never written to the warehouse file).
CREATE OR REPLACE TEMP TABLE stg_events (
    row_key BIGINT, feed VARCHAR, kind VARCHAR, source_file VARCHAR, source_row BIGINT,
    event_idx INTEGER, event VARCHAR, ts TIMESTAMP, channel VARCHAR, source VARCHAR,
    case_id VARCHAR, value DOUBLE, cost DOUBLE, duration_s DOUBLE, outcome VARCHAR,
    score DOUBLE, segment VARCHAR, region VARCHAR, attrs JSON, phase VARCHAR
);
CREATE OR REPLACE TEMP TABLE stg_ids (row_key BIGINT, feed VARCHAR, id_type VARCHAR, id_hash VARCHAR);
