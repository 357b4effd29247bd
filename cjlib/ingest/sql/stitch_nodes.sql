-- Every distinct identifier becomes a node with its salted hash (computed once per identifier,
-- not per occurrence). A node's number is its rowid + 1: arbitrary, as no ordering is needed
-- (customer ids come from each component's first activity and smallest identifier hash).
CREATE OR REPLACE TABLE stitch_nodes AS
SELECT id_type, id_value, cj_hash($salt, id_type, id_value) AS id_hash
FROM (SELECT DISTINCT id_type, id_value FROM stg_ids);
