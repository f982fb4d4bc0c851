import requests


class InventoryClient:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def levels(self, warehouse: str) -> list[dict]:
        response = requests.get(f"{self.base_url}/v1/levels", params={"warehouse": warehouse}, timeout=10)
        response.raise_for_status()
        return response.json()["items"]
