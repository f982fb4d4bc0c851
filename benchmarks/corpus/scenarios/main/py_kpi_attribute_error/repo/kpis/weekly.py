import pandas as pd

sales = pd.DataFrame({"week": [1, 1, 2], "region": ["n", "s", "n"], "revenue": [10.0, 5.0, 7.5]})
weekly = sales.groupby("week")["revenue"].summ()
print(weekly)
