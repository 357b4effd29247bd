-- The identities and stitching tables (then sql/events.sql writes the events table, and
-- sql/customers.sql the customers table from it). Sets of feeds and of identifier types are
-- aggregated as bit strings (bit i: feed number i, feeds numbered in name order; identifier
-- types likewise) and spelled out as sorted lists once per distinct set, not once per row.
CREATE OR REPLACE TABLE node_rows AS
SELECT node, count(*) AS n_rows,
       bitstring_agg($feed_nos[(row_key >> 32) + 1], 0, $last_feed) AS feed_mask
FROM row_ids
GROUP BY node;
DROP TABLE row_ids;

CREATE OR REPLACE TABLE customer_types AS
SELECT cc.customer_id,
       bitstring_agg(list_position($id_types, n.id_type) - 1, 0, $last_type) AS type_mask
FROM stitch_nodes n
JOIN node_customer cc USING (node)
GROUP BY cc.customer_id;

-- One row per identifier (a node is one (id_type, id_hash)): its rows and their feeds.
INSERT INTO identities
WITH feed_sets AS (
    SELECT mask, cj_set(mask, $feed_names) AS feeds
    FROM (SELECT DISTINCT feed_mask AS mask FROM node_rows)
)
SELECT n.id_type, n.id_hash, cc.customer_id, r.n_rows, f.feeds
FROM node_rows r
JOIN stitch_nodes n USING (node)
JOIN node_customer cc USING (node)
JOIN feed_sets f ON f.mask = r.feed_mask
ORDER BY cc.customer_id, n.id_type, n.id_hash;

-- How well the feeds were tied together: per feed, its customers, how many of them also appear
-- in another feed, and through which identifier types the links were made.
INSERT INTO stitching
WITH customer_feed AS (
    SELECT customer_id, $feed_nos[(row_key >> 32) + 1] AS feed_no, count(*) AS n_rows
    FROM row_customer
    GROUP BY ALL
), customer_feeds AS (
    SELECT customer_id, count(*) AS n_feeds FROM customer_feed GROUP BY customer_id
), shared_types AS (
    -- the types of identifiers seen in more than one feed, with those feeds
    SELECT DISTINCT n.id_type, r.feed_mask
    FROM node_rows r JOIN stitch_nodes n USING (node)
    WHERE bit_count(r.feed_mask) > 1
), linked_by AS (
    SELECT feed_no, list_sort(list_distinct(list(id_type))) AS linked_by
    FROM (SELECT id_type, feed_mask, unnest(range(0, $last_feed + 1)) AS feed_no FROM shared_types)
    WHERE get_bit(feed_mask, CAST(feed_no AS INTEGER)) = 1
    GROUP BY feed_no
), event_counts AS (
    SELECT feed, CAST(sum(events) AS BIGINT) AS events
    FROM ingest_log
    GROUP BY feed
    HAVING sum(events) > 0
)
SELECT
    any_value($feed_names[c.feed_no + 1]) AS feed,
    CAST(sum(c.n_rows) AS BIGINT) AS rows,
    any_value(ec.events) AS events,
    count(*) AS customers,
    count(*) FILTER (WHERE cf.n_feeds > 1) AS linked_customers,
    round(count(*) FILTER (WHERE cf.n_feeds > 1) / count(*), 4) AS linked_share,
    coalesce(any_value(lb.linked_by), []) AS linked_by
FROM customer_feed c
JOIN customer_feeds cf USING (customer_id)
LEFT JOIN linked_by lb USING (feed_no)
LEFT JOIN event_counts ec ON ec.feed = $feed_names[c.feed_no + 1]
GROUP BY c.feed_no
ORDER BY feed;

DROP TABLE node_rows;
DROP TABLE stitch_nodes;
DROP TABLE node_customer;
