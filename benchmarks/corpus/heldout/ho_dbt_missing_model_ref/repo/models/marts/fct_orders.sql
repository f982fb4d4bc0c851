with orders as (
    select * from {{ ref('stg_orders') }}
),
customers as (
    select * from {{ ref('stg_customers') }}
)
select
    orders.order_id,
    orders.order_date,
    customers.customer_name,
    customers.country,
    orders.amount
from orders
left join customers on orders.customer_id = customers.customer_id
