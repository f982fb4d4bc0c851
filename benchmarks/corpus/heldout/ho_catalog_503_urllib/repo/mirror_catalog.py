import json
import os
import urllib.request

with urllib.request.urlopen(os.environ["CATALOG_URL"] + "/v1/catalog", timeout=10) as response:
    catalog = json.load(response)
print(len(catalog))
