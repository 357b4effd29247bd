-- RFM scores and named segments per customer. Purchasers ($purchase_event up to $end, default
-- the last event) get, for each of recency (days from the last purchase to the end; more recent
-- scores higher), frequency (purchases) and monetary (total {{value}}), a quintile score
-- 1 + #{k in 1..4 : v > q_k}, q_k = the k/5 quantile (linear interpolation) of v over purchasers,
-- v = -recency, frequency, monetary: pandas.qcut(v, 5) bins (right-closed) when the quintile
-- edges are distinct; tied edges skip scores rather than renumber them. FM = round-half-up mean
-- of F and M. Segments (R x FM, first match):
--   champions        R >= 4 and FM >= 4
--   loyal            R >= 3 and FM >= 3
--   promising        R >= 4 (FM <= 2)      recent, not yet frequent or big
--   needs_attention  R = 3  (FM <= 2)
--   at_risk          R <= 2 and FM >= 3    used to buy often or big, not lately
--   hibernating      R = 2  (FM <= 2)
--   lost             R = 1  (FM <= 2)
-- Customers without a purchase are 'prospect' with NULL scores.
with

customers_in as (
    select customer_id
    from customers
),

bounds as (
    select coalesce(cast($end as timestamp), (select max(ts) from events)) as end_ts
),

purchases as (
    select e.customer_id, e.ts, coalesce(cast(e.{{value}} as double), 0) as value
    from events as e
    cross join bounds as b
    where e.event = $purchase_event and e.ts <= b.end_ts
),

rfm as (
    select
        p.customer_id,
        epoch(b.end_ts - max(p.ts)) / 86400.0 as recency_days,
        count(*) as frequency,
        sum(p.value) as monetary
    from purchases as p
    cross join bounds as b
    group by p.customer_id, b.end_ts
),

edges as (
    select
        quantile_cont(-recency_days, [0.2, 0.4, 0.6, 0.8]) as r_q,
        quantile_cont(frequency, [0.2, 0.4, 0.6, 0.8]) as f_q,
        quantile_cont(monetary, [0.2, 0.4, 0.6, 0.8]) as m_q
    from rfm
),

scored as (
    select
        rfm.*,
        1 + (-recency_days > r_q[1])::int + (-recency_days > r_q[2])::int
          + (-recency_days > r_q[3])::int + (-recency_days > r_q[4])::int as r_score,
        1 + (frequency > f_q[1])::int + (frequency > f_q[2])::int
          + (frequency > f_q[3])::int + (frequency > f_q[4])::int as f_score,
        1 + (monetary > m_q[1])::int + (monetary > m_q[2])::int
          + (monetary > m_q[3])::int + (monetary > m_q[4])::int as m_score
    from rfm
    cross join edges
),

named as (
    select
        *,
        (f_score + m_score + 1) // 2 as fm_score
    from scored
),

final as (
    select
        c.customer_id,
        case
            when n.customer_id is null then 'prospect'
            when n.r_score >= 4 and n.fm_score >= 4 then 'champions'
            when n.r_score >= 3 and n.fm_score >= 3 then 'loyal'
            when n.r_score >= 4 then 'promising'
            when n.r_score = 3 then 'needs_attention'
            when n.fm_score >= 3 then 'at_risk'
            when n.r_score = 2 then 'hibernating'
            else 'lost'
        end as segment,
        n.recency_days,
        n.frequency,
        n.monetary,
        n.r_score,
        n.f_score,
        n.m_score,
        n.fm_score
    from customers_in as c
    left join named as n on n.customer_id = c.customer_id
)

select * from final
order by customer_id
