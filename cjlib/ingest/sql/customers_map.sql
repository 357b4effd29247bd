-- Each component -> a customer_id numbered by first activity (components whose rows have no event
-- last), then by smallest identifier hash. stitch_labels and component_first come from
-- cjlib/ingest/stitch.py, which then gives each identifier and each row its customer
-- (node_customer, row_customer).
CREATE OR REPLACE TABLE component_customer AS
WITH smallest_id AS (
    SELECT l.label, min(n.id_hash) AS min_hash
    FROM stitch_labels l JOIN stitch_nodes n USING (node)
    GROUP BY l.label
)
SELECT label,
       row_number() OVER (ORDER BY nullif(f.first_us, 9223372036854775807) NULLS LAST, min_hash)
           AS customer_id
FROM component_first f JOIN smallest_id USING (label);
DROP TABLE component_first;
DROP TABLE stitch_labels;
