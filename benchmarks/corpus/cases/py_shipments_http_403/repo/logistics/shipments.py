import os

import httpx


def shipments(day: str) -> list[dict]:
    response = httpx.get(os.environ["LOGISTICS_API_URL"] + "/v1/shipments", params={"day": day}, timeout=10)
    response.raise_for_status()
    return response.json()["items"]


if __name__ == "__main__":
    print(len(shipments("2024-05-01")))
