-- Behaviour features per customer (every customer of the customers relation): event counts,
-- active days, tenure and recency in days (end = $end, default the last event), purchases
-- ($purchase_event) and their total {{value}}. (Channel mix: segments_channels.sql.)
with

customers_in as (
    select customer_id
    from customers
),

bounds as (
    select coalesce(cast($end as timestamp), (select max(ts) from events)) as end_ts
),

events_in as (
    select e.customer_id, e.ts, e.event, e.channel, e.{{value}} as value
    from events as e
    cross join bounds as b
    where e.ts <= b.end_ts
),

per_customer as (
    select
        customer_id,
        count(*) as events,
        count(distinct cast(ts as date)) as active_days,
        epoch(max(ts) - min(ts)) / 86400.0 as tenure_days,
        max(ts) as last_ts,
        count(*) filter (where event = $purchase_event) as purchases,
        coalesce(sum(cast(value as double)) filter (where event = $purchase_event), 0) as value
    from events_in
    group by customer_id
),

final as (
    select
        c.customer_id,
        coalesce(p.events, 0) as events,
        coalesce(p.active_days, 0) as active_days,
        coalesce(p.tenure_days, 0) as tenure_days,
        epoch(b.end_ts - p.last_ts) / 86400.0 as recency_days,
        coalesce(p.purchases, 0) as purchases,
        coalesce(p.value, 0) as value
    from customers_in as c
    cross join bounds as b
    left join per_customer as p on p.customer_id = c.customer_id
)

select * from final
order by customer_id
