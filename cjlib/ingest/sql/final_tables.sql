-- The canonical tables, from staging plus the stitching result. Events are stored sorted by
-- customer and time, which is the order every journey analysis reads them in. event_id is the
-- row key (file, row) and the event's index within the row: unique, and the same on a rebuild.
INSERT INTO events
WITH staged AS (
    SELECT cc.customer_id, (e.row_key << 4) | e.event_idx AS event_id, e.*
    FROM stg_events e
    JOIN row_component rc USING (row_key)
    JOIN component_customer cc USING (label)
)
SELECT
    event_id, customer_id, ts, event, channel, source, case_id, value, cost, duration_s,
    outcome, score, attrs, phase, feed, kind, source_file, source_row
FROM staged
ORDER BY customer_id, ts, event_id;

CREATE TABLE customers AS
WITH staged AS (
    SELECT cc.customer_id, e.ts, e.segment, e.region, e.source, e.channel, e.feed
    FROM stg_events e
    JOIN row_component rc USING (row_key)
    JOIN component_customer cc USING (label)
), id_types AS (
    SELECT cc.customer_id, list_sort(list_distinct(string_split(string_agg(n.id_type, ','), ','))) AS id_types
    FROM stitch_nodes n
    JOIN stitch_labels l USING (node)
    JOIN component_customer cc USING (label)
    GROUP BY cc.customer_id
)
SELECT
    customer_id,
    min(ts) AS first_seen,
    max(ts) AS last_seen,
    count(*) AS n_events,
    arg_max(segment, ts) FILTER (WHERE segment IS NOT NULL) AS segment,
    arg_max(region, ts) FILTER (WHERE region IS NOT NULL) AS region,
    arg_min(source, ts) FILTER (WHERE source IS NOT NULL) AS source,
    arg_min(channel, ts) AS first_channel,
    list_sort(list_distinct(string_split(string_agg(feed, ','), ','))) AS feeds,
    any_value(id_types) AS id_types
FROM staged LEFT JOIN id_types USING (customer_id)
GROUP BY customer_id
ORDER BY customer_id;

CREATE TABLE identities AS
SELECT
    n.id_type, n.id_hash, cc.customer_id,
    count(*) AS n_rows,
    list_sort(list_distinct(string_split(string_agg(i.feed, ','), ','))) AS feeds
FROM stg_ids i
JOIN stitch_nodes n USING (id_hash)
JOIN stitch_labels l USING (node)
JOIN component_customer cc USING (label)
GROUP BY n.id_type, n.id_hash, cc.customer_id
ORDER BY cc.customer_id, n.id_type, n.id_hash;

-- How well the feeds were tied together: per feed, its customers, how many of them also appear
-- in another feed, and through which identifier types the links were made.
CREATE TABLE stitching AS
WITH row_customer AS (
    SELECT DISTINCT i.row_key, i.feed, cc.customer_id
    FROM stg_ids i JOIN row_component rc USING (row_key) JOIN component_customer cc USING (label)
), customer_feeds AS (
    SELECT customer_id, count(DISTINCT feed) AS n_feeds FROM row_customer GROUP BY customer_id
), id_feeds AS (
    SELECT id_hash, count(DISTINCT feed) AS n_feeds FROM stg_ids GROUP BY id_hash
), linked_by AS (
    SELECT i.feed, list_sort(list_distinct(string_split(string_agg(i.id_type, ','), ','))) AS linked_by
    FROM stg_ids i JOIN id_feeds f USING (id_hash)
    WHERE f.n_feeds > 1
    GROUP BY i.feed
), event_counts AS (
    SELECT feed, count(*) AS events FROM stg_events GROUP BY feed
)
SELECT
    rc.feed,
    count(DISTINCT rc.row_key) AS rows,
    any_value(ec.events) AS events,
    count(DISTINCT rc.customer_id) AS customers,
    count(DISTINCT rc.customer_id) FILTER (WHERE cf.n_feeds > 1) AS linked_customers,
    round(count(DISTINCT rc.customer_id) FILTER (WHERE cf.n_feeds > 1)
          / count(DISTINCT rc.customer_id), 4) AS linked_share,
    coalesce(any_value(lb.linked_by), []) AS linked_by
FROM row_customer rc
JOIN customer_feeds cf USING (customer_id)
LEFT JOIN linked_by lb USING (feed)
LEFT JOIN event_counts ec USING (feed)
GROUP BY rc.feed
ORDER BY rc.feed;
