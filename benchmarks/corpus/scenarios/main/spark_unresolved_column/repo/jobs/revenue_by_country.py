from pyspark.sql import functions as F

from common.spark import get_session

spark = get_session("revenue_by_country")
orders = spark.read.option("header", True).option("inferSchema", True).csv("data/orders.csv")
revenue = orders.groupBy("country").agg(F.sum("amount_eur").alias("revenue"))
revenue.write.mode("overwrite").parquet("out/revenue_by_country")
spark.stop()
