import os


def warehouse_dsn() -> str:
    return os.environ["WAREHOUSE_DSN"]
