-- One round of min-label propagation over the edges, plus pointer jumping (a node takes the
-- label of its label), so long chains converge in a logarithmic number of rounds.
CREATE OR REPLACE TEMP TABLE stitch_next AS
WITH hop AS (
    SELECT node, label FROM stitch_labels
    UNION ALL
    SELECT e.a AS node, l.label FROM stitch_edges e JOIN stitch_labels l ON l.node = e.b
    UNION ALL
    SELECT e.b AS node, l.label FROM stitch_edges e JOIN stitch_labels l ON l.node = e.a
), best AS (
    SELECT node, min(label) AS label FROM hop GROUP BY node
)
SELECT b.node, least(b.label, j.label) AS label
FROM best b JOIN best j ON j.node = b.label;
