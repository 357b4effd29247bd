-- The customers table, from the events table just written (already joined to customers), the
-- staged segments and regions, and each customer's identifier types (sql/final_tables.sql).
CREATE OR REPLACE TABLE customer_rows AS
SELECT
    customer_id,
    min(ts) AS first_seen,
    max(ts) AS last_seen,
    count(*) AS n_events,
    arg_min(source, ts) FILTER (WHERE source IS NOT NULL) AS source,
    arg_min(channel, ts) AS first_channel,
    bitstring_agg(list_position($feed_names, feed) - 1, 0, $last_feed) AS feed_mask
FROM events
GROUP BY customer_id;

CREATE OR REPLACE TABLE customer_profile AS
SELECT
    c.customer_id,
    arg_max(p.segment, p.ts) FILTER (WHERE p.segment IS NOT NULL) AS segment,
    arg_max(p.region, p.ts) FILTER (WHERE p.region IS NOT NULL) AS region
FROM stg_profile p
JOIN row_customer c ON c.row_key = p.event_id >> 4
GROUP BY c.customer_id;

INSERT INTO customers
WITH feed_sets AS (
    SELECT mask, cj_set(mask, $feed_names) AS feeds
    FROM (SELECT DISTINCT feed_mask AS mask FROM customer_rows)
), type_sets AS (
    SELECT mask, cj_set(mask, $id_types) AS id_types
    FROM (SELECT DISTINCT type_mask AS mask FROM customer_types)
)
SELECT
    c.customer_id, c.first_seen, c.last_seen, c.n_events, p.segment, p.region, c.source,
    c.first_channel, f.feeds, t.id_types
FROM customer_rows c
JOIN feed_sets f ON f.mask = c.feed_mask
LEFT JOIN customer_profile p USING (customer_id)
LEFT JOIN customer_types ct USING (customer_id)
LEFT JOIN type_sets t ON t.mask = ct.type_mask
ORDER BY c.customer_id;
