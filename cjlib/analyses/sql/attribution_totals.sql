-- The conversions attribution covers ($conversion events; $first_only: each customer's first),
-- and their {{value}}, whether or not a touch precedes them.
with

conversions_in as (
    select
        customer_id,
        coalesce(cast({{value}} as double), 0) as value,
        row_number() over (partition by customer_id order by ts, event_id) as conversion_no
    from events
    where event = $conversion
),

final as (
    select count(*) as conversions, coalesce(sum(value), 0) as value
    from conversions_in
    where not $first_only or conversion_no = 1
)

select * from final
