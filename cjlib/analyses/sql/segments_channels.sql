-- Channel mix per customer: events per channel (NULL channel as '(none)') and their share of
-- the customer's events, up to $end (default the last event); long format.
with

customers_in as (
    select customer_id
    from customers
),

bounds as (
    select coalesce(cast($end as timestamp), (select max(ts) from events)) as end_ts
),

events_in as (
    select e.customer_id, coalesce(cast(e.channel as varchar), '(none)') as channel
    from events as e
    cross join bounds as b
    where e.ts <= b.end_ts
),

counts as (
    select e.customer_id, e.channel, count(*) as events
    from events_in as e
    inner join customers_in as c on c.customer_id = e.customer_id
    group by e.customer_id, e.channel
),

final as (
    select
        customer_id,
        channel,
        events,
        events / sum(events) over (partition by customer_id) as share
    from counts
)

select * from final
order by customer_id, channel
