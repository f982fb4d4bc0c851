import os
import urllib.request

request = urllib.request.Request(os.environ["BI_URL"] + "/v1/reports", method="POST")
with urllib.request.urlopen(request, timeout=10) as response:
    print(response.status)
