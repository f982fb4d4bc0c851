"""Business rules: enrich orders with customer data and normalise amounts to USD."""

from __future__ import annotations

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

REPORTING_CURRENCY = "USD"


def index_customers(customers: list[dict]) -> dict[str, dict]:
    return {row["customer_id"]: row for row in customers}


def to_usd(amount: float, currency: str, rates: dict[str, float]) -> float:
    """Convert an amount to USD; `rates` holds how many USD one unit of a currency buys."""
    if currency == REPORTING_CURRENCY:
        return round_cents(amount)
    if currency not in rates:
        raise ValueError(f"no FX rate for {currency}")
    return round_cents(amout * rates[currency])


def round_cents(value: float) -> float:
    return float(Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def enrich_orders(orders: list[dict], customers: list[dict], rates: dict[str, float]) -> list[dict]:
    """One warehouse row per order: the customer's segment and country, the amount in USD."""
    by_id = index_customers(customers)
    rows = []
    for order in orders:
        customer = by_id.get(order["customer_id"])
        if customer is None:
            raise ValueError(f"order {order['order_id']} references unknown customer {order['customer_id']}")
        rows.append(
            {
                "order_id": order["order_id"],
                "order_date": order["ordered_at"][:10],
                "customer_id": order["customer_id"],
                "segment": customer["segment"],
                "country": customer["country"],
                "amount_usd": to_usd(float(order["amount"]), order["currency"], rates),
            }
        )
    return rows


def daily_sales(rows: list[dict]) -> list[dict]:
    """Revenue and order count per (day, segment), sorted."""
    totals: dict[tuple[str, str], list] = defaultdict(lambda: [0.0, 0])
    for row in rows:
        key = (row["order_date"], row["segment"])
        totals[key][0] += row["amount_usd"]
        totals[key][1] += 1
    return [
        {"order_date": day, "segment": segment, "revenue_usd": round_cents(revenue), "orders": count}
        for (day, segment), (revenue, count) in sorted(totals.items())
    ]
