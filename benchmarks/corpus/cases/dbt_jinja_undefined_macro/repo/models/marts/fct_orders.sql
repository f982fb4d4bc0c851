with orders as (
    select * from {{ ref('stg_orders') }}
)
select
    order_id,
    order_date,
    {{ cents_to_euros('amount') }} as amount_eur
from orders
