from etl import extract, fx, transform

CUSTOMERS = [
    {"customer_id": "C1", "name": "A", "email": "a@example.com", "country": "US", "segment": "smb"},
    {"customer_id": "C2", "name": "B", "email": "b@example.com", "country": "US", "segment": "enterprise"},
]


def order(order_id, customer_id, amount, currency="USD", day="2024-06-01"):
    return {"order_id": order_id, "customer_id": customer_id, "ordered_at": f"{day}T10:00:00Z",
            "amount": amount, "currency": currency}


def test_usd_amounts_are_rounded_to_cents():
    assert transform.to_usd(10.005, "USD", {}) == 10.01


def test_enrich_orders_adds_customer_fields():
    rows = transform.enrich_orders([order("O1", "C2", 100)], CUSTOMERS, {})
    assert rows == [{"order_id": "O1", "order_date": "2024-06-01", "customer_id": "C2",
                     "segment": "enterprise", "country": "US", "amount_usd": 100.0}]


def test_daily_sales_groups_by_day_and_segment():
    rows = transform.enrich_orders(
        [order("O1", "C1", 10), order("O2", "C1", 5.5), order("O3", "C2", 100, day="2024-06-02")], CUSTOMERS, {}
    )
    assert transform.daily_sales(rows) == [
        {"order_date": "2024-06-01", "segment": "smb", "revenue_usd": 15.5, "orders": 2},
        {"order_date": "2024-06-02", "segment": "enterprise", "revenue_usd": 100.0, "orders": 1},
    ]


def test_latest_batch_loads():
    orders = extract.read_orders(extract.orders_path("2024-06-01"))
    customers = extract.read_customers(extract.DATA_DIR / "reference" / "customers.csv")
    rows = transform.enrich_orders(orders, customers, fx.snapshot_rates())
    assert len(rows) == len(orders) > 0
