import argparse

from feeds.vendor import load_prices

parser = argparse.ArgumentParser()
parser.add_argument("--date")
args = parser.parse_args()
prices = load_prices("incoming/prices.csv")
print(prices.head())
