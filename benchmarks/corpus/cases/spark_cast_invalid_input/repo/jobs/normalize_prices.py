from pyspark.sql import functions as F

from common.spark import get_session

spark = get_session("normalize_prices")
prices = spark.read.option("header", True).csv("data/prices.csv")
typed = prices.withColumn("price", F.col("price").cast("int"))
typed.show()
spark.stop()
