-- The events table, from staging plus each row's customer. Events are stored sorted by customer
-- and time, which is the order every journey analysis reads them in. event_id is the row key
-- (file, row) and the event's index within the row: unique, and the same on a rebuild. The sort
-- carries the event_id only; the file's feed, kind and name, the row number and the phase (from
-- the event name, else the source's default) are derived from it after sorting, with lists
-- indexed by file id, which keeps the sorted rows narrow. build.py runs this once per range of
-- customers ($after_customer, $last_customer], in order, so that no one sort has to hold every
-- event (at 100M events that sort outgrew the temp space); the table ends up in the same order.
INSERT INTO events
SELECT
    event_id, customer_id, ts, event, channel, source, case_id, value, cost, duration_s,
    outcome, score, attrs,
    coalesce($phase_values[list_position($phase_events, event)],
             $default_phases[(event_id >> 36) + 1]),
    $feeds[(event_id >> 36) + 1], $kinds[(event_id >> 36) + 1], $names[(event_id >> 36) + 1],
    (event_id >> 4) & 4294967295
FROM (
    SELECT
        e.event_id, c.customer_id, e.ts, e.event, e.channel, e.source, e.case_id, e.value,
        e.cost, e.duration_s, e.outcome, e.score, e.attrs
    FROM stg_events e
    JOIN row_customer c ON c.row_key = e.event_id >> 4
    WHERE c.customer_id > $after_customer AND c.customer_id <= $last_customer
    ORDER BY c.customer_id, e.ts, e.event_id
);
