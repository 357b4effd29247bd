-- Rule-based attribution of conversions to touchpoints ({{by}}: channel, lead source, ...).
-- A journey is a customer's touches after their previous conversion up to (strictly before) a
-- conversion ($conversion); only touches within $lookback_days before the conversion count (all
-- when NULL)
-- ($first_only: only each customer's first conversion). Consecutive repeats of the same
-- touchpoint collapse into one when $collapse. Per touch, the weight of each model:
--   first_touch / last_touch: 1 for the first / last touch
--   linear: 1/k for k touches
--   position_based: 40% first, 40% last, 20% shared by the middle (k=1: 100%, k=2: 50/50)
--   time_decay: 2^(-age/$half_life_days), age = time before the conversion, normalised within
--     the journey
-- Value = weight x the conversion's {{value}} (NULL counts as 0).
with

conversions_in as (
    select customer_id, ts, event_id, coalesce(cast({{value}} as double), 0) as value
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
    select customer_id, ts, event_id, touch, null::double as value, 0 as is_conversion
    from touches_in
    union all
    select customer_id, ts, event_id, null::varchar as touch, value, 1 as is_conversion
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
    select customer_id, journey_no, ts as end_ts, value
    from numbered
    where is_conversion = 1
      and (not $first_only or journey_no = 1)
),

in_window as (
    select t.customer_id, t.journey_no, t.ts, t.event_id, t.touch, j.end_ts, j.value
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

positioned as (
    select
        *,
        row_number() over (partition by customer_id, journey_no order by ts, event_id) as i,
        count(*) over (partition by customer_id, journey_no) as k,
        -- decay relative to the journey's latest touch, so it never underflows to 0
        pow(0.5, (epoch(end_ts - ts) - min(epoch(end_ts - ts)) over (
            partition by customer_id, journey_no)) / 86400.0 / $half_life_days) as decay
    from collapsed
),

weighted as (
    select
        touch,
        value,
        case when i = 1 then 1.0 else 0.0 end as first_touch,
        case when i = k then 1.0 else 0.0 end as last_touch,
        1.0 / k as linear,
        case
            when k = 1 then 1.0
            when k = 2 then 0.5
            when i = 1 or i = k then 0.4
            else 0.2 / (k - 2)
        end as position_based,
        decay / sum(decay) over (partition by customer_id, journey_no) as time_decay
    from positioned
),

final as (
    select
        touch,
        sum(first_touch) as first_touch,
        sum(last_touch) as last_touch,
        sum(linear) as linear,
        sum(position_based) as position_based,
        sum(time_decay) as time_decay,
        sum(first_touch * value) as first_touch_value,
        sum(last_touch * value) as last_touch_value,
        sum(linear * value) as linear_value,
        sum(position_based * value) as position_based_value,
        sum(time_decay * value) as time_decay_value
    from weighted
    group by touch
)

select * from final
order by touch
