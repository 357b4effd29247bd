-- Whether the events row {{row}} meets every condition of the step (or exclusion) definition
-- {{defs}}: each of its conds, {col, path, vals}, holds when the row's column, or its attrs at
-- path, is one of vals. Included by funnel.sql, funnel_any.sql, followup.sql and latency.sql.
len(list_filter({{defs}}.conds, lambda c: NOT coalesce(list_contains(c.vals,
    CASE c.col
        WHEN 'channel' THEN {{row}}.channel WHEN 'source' THEN {{row}}.source
        WHEN 'case_id' THEN {{row}}.case_id WHEN 'outcome' THEN {{row}}.outcome
        WHEN 'kind' THEN {{row}}.kind WHEN 'feed' THEN {{row}}.feed
        WHEN 'phase' THEN {{row}}.phase
        ELSE json_extract_string({{row}}.attrs, c.path)
    END), false))) = 0
