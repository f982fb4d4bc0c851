import pandas as pd

returns = pd.read_csv("inbox/returns.csv")
print(returns.groupby("reason").size())
