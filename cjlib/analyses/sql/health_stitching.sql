-- Stitching coverage per feed: its customers, how many of them were tied to another feed, and
-- through which identifier types.
WITH stitching_ AS (
    SELECT feed, rows, events, customers, linked_customers, linked_share, linked_by
    FROM stitching
), final AS (
    SELECT feed, rows, events, customers, linked_customers, linked_share,
           array_to_string(linked_by, ', ') AS linked_by
    FROM stitching_
)
SELECT * FROM final
ORDER BY linked_share, feed
