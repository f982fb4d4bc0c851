import pandas as pd


def load_prices(path: str) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype={"sku": str})
    return frame.rename(columns=str.lower)
