import pandas as pd

orders = pd.read_csv("data/orders.csv")
duplicated = int(orders["order_id"].duplicated().sum())
assert duplicated == 0, f"{duplicated} duplicate order_id values in orders"
print("orders ok")
