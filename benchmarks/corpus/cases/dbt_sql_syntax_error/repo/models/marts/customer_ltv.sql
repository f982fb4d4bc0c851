select
    customer_id,
    sum(amount) as lifetime_value,
    count(*) as orders
from {{ ref('stg_orders') }}
group customer_id
