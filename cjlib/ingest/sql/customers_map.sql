-- Each accepted row -> its component; each component -> a customer_id numbered by first activity.
CREATE OR REPLACE TEMP TABLE row_component AS
SELECT i.row_key, min(l.label) AS label
FROM stg_ids i JOIN stitch_nodes n USING (id_hash) JOIN stitch_labels l USING (node)
GROUP BY i.row_key;

CREATE OR REPLACE TEMP TABLE component_customer AS
WITH first_activity AS (
    SELECT rc.label, min(e.ts) AS first_ts
    FROM row_component rc LEFT JOIN stg_events e USING (row_key)
    GROUP BY rc.label
), smallest_id AS (
    SELECT l.label, min(n.id_hash) AS min_hash
    FROM stitch_labels l JOIN stitch_nodes n USING (node)
    GROUP BY l.label
)
SELECT label, row_number() OVER (ORDER BY first_ts NULLS LAST, min_hash) AS customer_id
FROM first_activity JOIN smallest_id USING (label);
