-- Historic value per acquisition cohort: customers grouped by the calendar month ($tz) of their
-- first purchase; value of all their purchases by months since that month, cumulative per
-- customer. Purchases count up to the $period holding $end (default: the last event), as in
-- clv_summary; the month holding the end is flagged incomplete.
with

events_in as (
    select customer_id, timezone($tz, ts at time zone 'UTC') as local_ts, {{value}} as value
    from events
    where event = $purchase_event
),

bounds as (
    select
        date_trunc($period, local_end) as end_period,
        date_trunc('month', local_end) as end_month
    from (
        select timezone($tz, coalesce(cast($end as timestamp), (select max(ts) from events))
                             at time zone 'UTC') as local_end
    )
),

observed as (
    select e.customer_id, date_trunc('month', e.local_ts) as month, e.value
    from events_in as e
    cross join bounds as b
    where date_trunc($period, e.local_ts) <= b.end_period
),

purchases as (
    select
        o.*,
        min(o.month) over (partition by o.customer_id) as cohort
    from observed as o
),

cohort_sizes as (
    select cohort, count(distinct customer_id) as customers
    from purchases
    group by cohort
),

months as (
    select
        p.cohort,
        date_diff('month', p.cohort, p.month) as months_since,
        count(distinct p.customer_id) as active_customers,
        count(*) as purchases,
        coalesce(sum(p.value), 0) as value
    from purchases as p
    group by 1, 2
),

final as (
    select
        m.cohort,
        m.months_since,
        s.customers,
        m.active_customers,
        m.purchases,
        m.value,
        m.value / s.customers as value_per_customer,
        sum(m.value) over (
            partition by m.cohort order by m.months_since
            rows between unbounded preceding and current row
        ) / s.customers as cumulative_value_per_customer,
        m.cohort + to_months(cast(m.months_since as integer)) < b.end_month as complete
    from months as m
    inner join cohort_sizes as s on s.cohort = m.cohort
    cross join bounds as b
)

select * from final
order by cohort, months_since
