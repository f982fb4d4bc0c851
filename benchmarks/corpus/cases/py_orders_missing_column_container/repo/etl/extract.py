from pathlib import Path

import pandas as pd


def read_orders(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, parse_dates=["ordered_at"])
