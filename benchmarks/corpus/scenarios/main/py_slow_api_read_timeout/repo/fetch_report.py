import os

import requests

url = os.environ["REPORTING_API_URL"] + "/v1/slow/report"
report = requests.get(url, timeout=(2, 1)).json()
print(report)
