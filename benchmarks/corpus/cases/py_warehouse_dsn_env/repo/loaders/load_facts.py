import logging

from loaders.settings import warehouse_dsn

logging.basicConfig(level=logging.INFO)
logging.getLogger(__name__).info("connecting")
dsn = warehouse_dsn()
print("connected to", dsn.split("@")[-1])
