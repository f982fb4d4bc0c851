import sys
from pathlib import Path

import pandas as pd


def compact(day: str) -> pd.DataFrame:
    parts = sorted(Path("lake/clicks").glob(f"dt={day}/*.csv"))
    return pd.concat([pd.read_csv(p) for p in parts], ignore_index=True)


if __name__ == "__main__":
    frame = compact(sys.argv[1])
    print(len(frame))
