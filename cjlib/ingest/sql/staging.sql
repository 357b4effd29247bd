-- Staging tables, created in the build's staging database (see build.py), never in the
-- warehouse. A row key is (file << 32) | row, an event id (row key << 4) | the event's index
-- within the row; the file's feed, kind and name are looked up from them. Events carry no
-- phase yet: it follows from the event name and the file.
CREATE OR REPLACE TABLE stg_files (
    file_id INTEGER, feed VARCHAR, kind VARCHAR, source_file VARCHAR
);
CREATE OR REPLACE TABLE stg_events (
    event_id BIGINT, event VARCHAR, ts TIMESTAMP, channel VARCHAR, source VARCHAR,
    case_id VARCHAR, value DOUBLE, cost DOUBLE, duration_s DOUBLE, outcome VARCHAR, score DOUBLE,
    attrs JSON
);
-- Segment and region are not event columns: only the customers table reads them, so they are
-- staged apart, for the few events that have one.
CREATE OR REPLACE TABLE stg_profile (
    event_id BIGINT, ts TIMESTAMP, segment VARCHAR, region VARCHAR
);
-- Identifiers normalised but not yet hashed (stitch_nodes hashes each distinct one once), with
-- the time of their row's first event.
CREATE OR REPLACE TABLE stg_ids (
    row_key BIGINT, id_type VARCHAR, id_value VARCHAR, first_ts TIMESTAMP
);
