import os

import requests

session = requests.Session()
session.headers["Authorization"] = "Bearer " + os.environ.get("CRM_TOKEN", "")
response = session.get(os.environ["CRM_API_URL"] + "/v1/customers", timeout=10)
response.raise_for_status()
print(len(response.json()["items"]))
