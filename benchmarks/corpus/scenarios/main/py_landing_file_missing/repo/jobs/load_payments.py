import sys

import pandas as pd

day = sys.argv[1]
payments = pd.read_csv(f"landing/payments/{day}/payments.csv")
print(payments["amount"].sum())
