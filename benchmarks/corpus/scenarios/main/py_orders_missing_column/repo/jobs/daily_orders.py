import argparse
import logging
from pathlib import Path

from etl.extract import read_orders
from etl.transform import enrich_orders

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
log = logging.getLogger("daily_orders")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--run-date", required=True)
    args = parser.parse_args()
    log.info("run date %s", args.run_date)
    orders = read_orders(Path("data/orders.csv"))
    log.info("read %d orders", len(orders))
    enriched = enrich_orders(orders)
    enriched.to_csv(f"/tmp/orders_{args.run_date}.csv", index=False)


if __name__ == "__main__":
    main()
