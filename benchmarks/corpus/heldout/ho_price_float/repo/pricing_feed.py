import csv

with open("prices.tsv", newline="") as handle:
    reader = csv.reader(handle, delimiter="\t")
    next(reader)
    total = 0.0
    for sku, price in reader:
        total += float(price)
print(total)
