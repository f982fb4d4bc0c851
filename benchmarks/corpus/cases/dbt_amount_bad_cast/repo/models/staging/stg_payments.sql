{{ config(materialized='table') }}

select
    payment_id,
    order_id,
    method,
    cast(amount as decimal(10, 2)) as amount
from {{ ref('raw_payments') }}
