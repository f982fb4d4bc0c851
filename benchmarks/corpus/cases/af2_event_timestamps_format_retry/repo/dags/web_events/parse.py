from pathlib import Path

import pandas as pd

RAW = Path(__file__).parent / "raw"


def parse_events(ds: str, **_) -> int:
    events = pd.read_csv(RAW / "events.csv")
    events["event_time"] = pd.to_datetime(events["event_time"], format="%Y-%m-%d %H:%M:%S")
    return int(events["event_time"].dt.date.nunique())
