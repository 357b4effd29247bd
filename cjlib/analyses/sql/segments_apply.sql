-- Make a segmentation the customers' `segment` on this cursor: the registered frame
-- _cj_segment_assignment (customer_id, segment) replaces customers.segment (customers it does
-- not cover get '(unassigned)'); the previous value is kept as original_segment.
create or replace temp table customers as
with

assignment as (
    select customer_id, segment
    from _cj_segment_assignment
),

final as (
    select
        c.* replace (cast(coalesce(a.segment, '(unassigned)') as varchar) as segment),
        c.segment as original_segment
    from temp.main.customers as c
    left join assignment as a on a.customer_id = c.customer_id
)

select * from final
