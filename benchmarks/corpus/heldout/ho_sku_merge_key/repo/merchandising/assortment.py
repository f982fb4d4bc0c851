import pandas as pd

catalog = pd.DataFrame({"sku": ["A", "B"], "title": ["Mug", "Cap"]})
stock = pd.read_json("feeds/stock.json", orient="records")
merged = stock.merge(catalog, on="sku", how="inner")
print(merged.to_string())
