from pathlib import Path

import pandas as pd

DATA = Path(__file__).parent


def join_profiles(ds: str, **_) -> int:
    orders = pd.read_csv(DATA / "orders.csv")
    profiles = pd.read_csv(DATA / "profiles.csv")
    joined = orders.merge(profiles, on="customer_id", how="left")
    return len(joined)
