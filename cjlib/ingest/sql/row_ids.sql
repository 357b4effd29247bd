-- Each accepted row's identifier nodes, with the row's first event time (microseconds) for the
-- components' first activity; the identifier text is not needed past this point.
CREATE OR REPLACE TABLE row_ids AS
SELECT i.row_key, n.rowid + 1 AS node, epoch_us(i.first_ts) AS first_us
FROM stg_ids i JOIN stitch_nodes n USING (id_type, id_value);
DROP TABLE stg_ids;
CREATE OR REPLACE TABLE stitch_nodes AS
SELECT rowid + 1 AS node, id_type, id_hash FROM stitch_nodes;
