import os

import httpx

addresses = ["Unter den Linden 1, Berlin", "Rue de Rivoli 1, Paris"]
with httpx.Client(base_url=os.environ["GEOCODER_URL"], timeout=5) as client:
    result = client.post("/geocode", json={"addresses": addresses})
print(result.json())
