-- Historic value per breakdown value of the customers table (segment by default): every
-- customer of the group counts in the denominator, purchasers or not. Purchases count up to the
-- $period holding $end (default: the last event), as in clv_summary.
with

customers_in as (
    select customer_id, cast(coalesce({{by}}, '(none)') as varchar) as breakdown
    from customers
),

events_in as (
    select customer_id, timezone($tz, ts at time zone 'UTC') as local_ts, {{value}} as value
    from events
    where event = $purchase_event
),

bounds as (
    select date_trunc(
        $period,
        timezone($tz, coalesce(cast($end as timestamp), (select max(ts) from events))
                      at time zone 'UTC')
    ) as end_period
),

per_customer as (
    select e.customer_id, count(*) as purchases, coalesce(sum(e.value), 0) as value
    from events_in as e
    cross join bounds as b
    where date_trunc($period, e.local_ts) <= b.end_period
    group by e.customer_id
),

final as (
    select
        c.breakdown,
        count(*) as customers,
        count(p.customer_id) as purchasers,
        coalesce(sum(p.purchases), 0) as purchases,
        coalesce(sum(p.value), 0) as historic_value
    from customers_in as c
    left join per_customer as p on p.customer_id = c.customer_id
    group by c.breakdown
)

select * from final
order by historic_value desc, breakdown
