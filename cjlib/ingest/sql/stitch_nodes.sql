-- Every distinct identifier becomes a node; rows tie their identifiers together (star edges to
-- the row's smallest node), so customers are the connected components of this graph.
-- Node numbers are arbitrary (no ordering needed): customer ids are assigned later from each
-- component's first activity and smallest identifier hash, not from node numbers.
CREATE OR REPLACE TEMP TABLE stitch_nodes AS
SELECT id_hash, id_type, row_number() OVER () AS node
FROM (SELECT DISTINCT id_hash, id_type FROM stg_ids);

CREATE OR REPLACE TEMP TABLE stitch_edges AS
WITH row_nodes AS (
    SELECT i.row_key, n.node FROM stg_ids i JOIN stitch_nodes n USING (id_hash)
), anchored AS (
    SELECT node, min(node) OVER (PARTITION BY row_key) AS anchor FROM row_nodes
)
SELECT DISTINCT node AS a, anchor AS b FROM anchored WHERE node <> anchor;

CREATE OR REPLACE TEMP TABLE stitch_labels AS SELECT node, node AS label FROM stitch_nodes;
