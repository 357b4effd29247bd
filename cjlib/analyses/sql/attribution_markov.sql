-- Transition counts of the first-order Markov chain behind Markov attribution: states
-- (start), each touchpoint ({{by}}), (conversion), (null). Journeys as in attribution_rules.sql
-- (touches after the previous conversion up to a conversion, within $lookback_days before it,
-- consecutive repeats collapsed when $collapse); in addition the touches after a customer's
-- last conversion (or of a customer who never converted) form a journey ending in (null),
-- its window ending at its last touch. $first_only keeps each customer's first journey only.
-- Journeys without any touch in the window are left out (they say nothing about touchpoints).
with

conversions_in as (
    select customer_id, ts, event_id
    from events
    where event = $conversion
),

touches_in as (
    select customer_id, ts, event_id, cast({{by}} as varchar) as touch
    from events
    where event <> $conversion
      and {{by}} is not null
      and ($touch_events is null or list_contains($touch_events, event))
),

stream as (
    select customer_id, ts, event_id, touch, 0 as is_conversion
    from touches_in
    union all
    select customer_id, ts, event_id, null::varchar as touch, 1 as is_conversion
    from conversions_in
),

numbered as (
    -- journey_no: conversions before a touch + 1; a conversion ends journey number conv_no.
    -- At equal times the conversion comes first, so a simultaneous touch starts the next journey.
    select
        *,
        sum(is_conversion) over (
            partition by customer_id order by ts, is_conversion desc, event_id
            rows between unbounded preceding and current row
        ) + 1 - is_conversion as journey_no
    from stream
),

journeys as (
    -- one row per journey: its end (conversion time, or its last touch) and outcome
    select
        customer_id,
        journey_no,
        max(ts) as end_ts,
        max(is_conversion) = 1 as converted
    from numbered
    where not $first_only or journey_no = 1
    group by customer_id, journey_no
),

in_window as (
    select t.customer_id, t.journey_no, t.ts, t.event_id, t.touch, j.converted
    from numbered as t
    inner join journeys as j
        on j.customer_id = t.customer_id and j.journey_no = t.journey_no
    where t.is_conversion = 0
      and ($lookback_days is null
           or t.ts >= j.end_ts - to_microseconds(cast($lookback_days * 86400e6 as bigint)))
),

collapsed as (
    select *
    from (
        select
            *,
            lag(touch) over (
                partition by customer_id, journey_no order by ts, event_id
            ) as previous_touch
        from in_window
    )
    where not $collapse or previous_touch is null or previous_touch <> touch
),

steps as (
    select
        touch,
        converted,
        row_number() over (partition by customer_id, journey_no order by ts, event_id) as i,
        lead(touch) over (
            partition by customer_id, journey_no order by ts, event_id
        ) as next_touch
    from collapsed
),

edges as (
    select '(start)' as from_state, touch as to_state from steps where i = 1
    union all
    select
        touch as from_state,
        coalesce(next_touch, case when converted then '(conversion)' else '(null)' end)
            as to_state
    from steps
),

final as (
    select from_state, to_state, count(*) as n
    from edges
    group by from_state, to_state
)

select * from final
order by from_state, to_state
