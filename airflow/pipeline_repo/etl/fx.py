"""Foreign exchange rates to USD: the daily snapshot file or the rates service."""

from __future__ import annotations

import http.client
import json
from pathlib import Path

from etl.extract import DATA_DIR

SNAPSHOT = DATA_DIR / "reference" / "fx_rates.json"


def snapshot_rates(path: Path = SNAPSHOT) -> dict[str, float]:
    with open(path, encoding="utf-8") as fh:
        return {code: float(rate) for code, rate in json.load(fh)["rates"].items()}


def fetch_rates(host: str, port: int, timeout: float = 5.0) -> dict[str, float]:
    """GET /v1/rates?base=USD from the rates service."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", "/v1/rates?base=USD", headers={"Accept": "application/json"})
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"rates service answered HTTP {response.status}: {body[:200]!r}")
    finally:
        conn.close()
    return {code: float(rate) for code, rate in json.loads(body)["rates"].items()}
