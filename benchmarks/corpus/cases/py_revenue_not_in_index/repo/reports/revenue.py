import pandas as pd


def load() -> pd.DataFrame:
    frame = pd.read_csv("data/invoices.csv")
    return frame[["order_id", "net_amount"]]


def main() -> None:
    invoices = load()
    print(invoices.groupby("order_id")["net_amount"].sum().describe())


if __name__ == "__main__":
    main()
