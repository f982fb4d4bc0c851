import os

import httpx


def latest_rates(base: str) -> dict:
    with httpx.Client(base_url=os.environ["FX_API_URL"], timeout=10) as client:
        response = client.get("/v1/rates", params={"base": base})
        response.raise_for_status()
        return response.json()


if __name__ == "__main__":
    print(latest_rates("EUR"))
