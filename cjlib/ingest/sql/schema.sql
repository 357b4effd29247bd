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

-- Staging (temporary: never written to the warehouse file). A row key is (file << 32) | row, an
-- event id (row key << 4) | the event's index within the row; the file's feed, kind and name are
-- looked up from them. Events carry no phase yet: it follows from the event name and the file.
CREATE OR REPLACE TEMP TABLE stg_files (
    file_id INTEGER, feed VARCHAR, kind VARCHAR, source_file VARCHAR
);
CREATE OR REPLACE TEMP TABLE stg_events (
    event_id BIGINT, event VARCHAR, ts TIMESTAMP, channel VARCHAR, source VARCHAR,
    case_id VARCHAR, value DOUBLE, cost DOUBLE, duration_s DOUBLE, outcome VARCHAR, score DOUBLE,
    attrs JSON
);
-- Segment and region are not event columns: only the customers table reads them, so they are
-- staged apart, for the few events that have one.
CREATE OR REPLACE TEMP TABLE stg_profile (
    event_id BIGINT, ts TIMESTAMP, segment VARCHAR, region VARCHAR
);
-- Identifiers normalised but not yet hashed (stitch_nodes hashes each distinct one once), with
-- the time of their row's first event.
CREATE OR REPLACE TEMP TABLE stg_ids (
    row_key BIGINT, id_type VARCHAR, id_value VARCHAR, first_ts TIMESTAMP
);
