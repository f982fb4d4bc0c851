import os

import requests


def pull_catalog() -> int:
    response = requests.get(os.environ["CATALOG_API_URL"] + "/v1/catalog", params={"page": 1}, timeout=10)
    response.raise_for_status()
    return len(response.json()["items"])
