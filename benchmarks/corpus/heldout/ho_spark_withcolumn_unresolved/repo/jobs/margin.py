from pyspark.sql import SparkSession
from pyspark.sql import functions as F

spark = SparkSession.builder.appName("margin").getOrCreate()
sales = spark.createDataFrame([("A", 10.0, 6.0), ("B", 4.0, 1.5)], ["sku", "price", "cost_eur"])
margin = sales.withColumn("margin", F.col("price") - F.col("unit_cost"))
margin.show()
spark.stop()
