select refund_id, order_id, amount_cents / 100.0 as amount
from main.raw_refunds
