-- RFM summary per purchaser, the input of BG/NBD + Gamma-Gamma (Fader, Hardie & Lee 2005).
-- Times are counted in whole calendar periods ($period: day, week or month) of the client's time
-- zone ($tz); purchases in one period count once (their values summed). Observation ends with the
-- period holding $end (default: the last event).
--   frequency = repeat purchase periods (distinct periods after the first)
--   recency   = periods between the first and the last purchase period
--   T         = periods between the first purchase period and the end period
--   monetary  = mean value of the repeat purchase periods (NULL without repeats)
-- recency and T are converted to $unit ($unit_days days each) when $unit differs from $period.
with

events_in as (
    select customer_id, ts, {{value}} as value
    from events
    where event = $purchase_event
),

customers_in as (
    select customer_id, {{by}} as breakdown
    from customers
),

bounds as (
    select date_trunc(
        $period,
        timezone($tz, coalesce(cast($end as timestamp), (select max(ts) from events))
                      at time zone 'UTC')
    ) as end_period
),

purchase_periods as (
    select
        e.customer_id,
        date_trunc($period, timezone($tz, e.ts at time zone 'UTC')) as period_start,
        sum(e.value) as value,
        count(*) as purchases
    from events_in as e
    group by 1, 2
),

observed as (
    select
        p.*,
        min(p.period_start) over (partition by p.customer_id) as first_period
    from purchase_periods as p
    cross join bounds as b
    where p.period_start <= b.end_period
),

per_customer as (
    select
        customer_id,
        min(first_period) as first_period,
        max(period_start) as last_period,
        count(*) - 1 as frequency,
        avg(value) filter (where period_start > first_period) as monetary,
        sum(value) as total_value,
        sum(value) filter (where period_start = first_period) as first_value,
        sum(purchases) as purchases
    from observed
    group by customer_id
),

final as (
    select
        pc.customer_id,
        cast(coalesce(c.breakdown, '(none)') as varchar) as breakdown,
        pc.first_period as first_purchase,
        pc.last_period as last_purchase,
        pc.frequency,
        case when $unit = $period then date_diff($period, pc.first_period, pc.last_period)
             else date_diff('day', pc.first_period, pc.last_period) / $unit_days
        end::double as recency,
        case when $unit = $period then date_diff($period, pc.first_period, b.end_period)
             else date_diff('day', pc.first_period, b.end_period) / $unit_days
        end::double as "T",
        pc.monetary,
        pc.total_value,
        pc.first_value,
        pc.purchases
    from per_customer as pc
    cross join bounds as b
    left join customers_in as c on c.customer_id = pc.customer_id
)

select * from final
order by customer_id
