select c.customer_id, count(o.order_id) as orders
from {{ ref('dim_customers') }} c
left join {{ ref('stg_orders') }} o using (customer_id)
group by 1
