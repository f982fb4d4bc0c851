import os

import requests

BASE = os.environ["PARTNER_API_URL"]


def fetch(path: str) -> dict:
    response = requests.get(f"{BASE}{path}", timeout=10)
    response.raise_for_status()
    return response.json()


print(fetch("/v1/inventory?page=1"))
