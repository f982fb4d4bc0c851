import pandas as pd

SEGMENTS = {"A": "enterprise", "B": "smb", "C": "consumer"}


def enrich_orders(orders: pd.DataFrame) -> pd.DataFrame:
    orders = orders.copy()
    orders["amount_eur"] = orders["amount_cents"] / 100
    orders["customer_key"] = orders["customer_id"].astype(str).str.zfill(8)
    orders["segment"] = orders["segment_code"].map(SEGMENTS)
    return orders
