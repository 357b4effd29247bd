-- Transition matrix between consecutive states ({{level}}: event, channel, phase, ...) of each
-- customer, ordered by (ts, event_id). With $collapse, runs of the same state count once
-- (channel journeys: web -> phone -> email). With $start_end, '(start)' and '(end)' states are
-- added. p = n / (transitions out of from_state): rows sum to 1.
WITH source_events AS (
    SELECT customer_id, ts, event_id, {{level}} AS state
    FROM events
    WHERE {{level}} IS NOT NULL
      AND ($events::VARCHAR[] IS NULL OR list_contains($events::VARCHAR[], event))
      AND ($exclude::VARCHAR[] IS NULL OR NOT list_contains($exclude::VARCHAR[], event))
),

-- collapsing runs then pairing neighbours = pairing neighbours that differ: one window pass
steps AS (
    SELECT state,
           lead(state) OVER w AS next_state,
           lag(state) OVER w IS NULL AS is_first
    FROM source_events
    WINDOW w AS (PARTITION BY customer_id ORDER BY ts, event_id)
),

-- the few distinct (state, next state, first?) combinations, counted in one pass; the pairs are
-- read off this small table rather than off every event again
combos AS (
    SELECT state, next_state, is_first, count(*) AS n
    FROM steps
    GROUP BY ALL
),

pairs AS (
    SELECT state AS from_state, next_state AS to_state, n
    FROM combos
    WHERE next_state IS NOT NULL AND (NOT $collapse OR next_state <> state)
    UNION ALL
    SELECT '(start)', state, n FROM combos WHERE $start_end AND is_first
    UNION ALL
    SELECT state, '(end)', n FROM combos WHERE $start_end AND next_state IS NULL
),

final AS (
    SELECT from_state, to_state, sum(n) AS n,
           sum(n) / sum(sum(n)) OVER (PARTITION BY from_state) AS p
    FROM pairs
    GROUP BY from_state, to_state
)

SELECT * FROM final ORDER BY from_state, n DESC, to_state
