from pyspark.sql import functions as F
from pyspark.sql.types import StringType

from common.spark import get_session


@F.udf(returnType=StringType())
def normalize(value):
    return value.strip().lower()


spark = get_session("clean_emails")
customers = spark.read.option("header", True).csv("data/customers.csv")
cleaned = customers.withColumn("email", normalize(F.col("email")))
cleaned.write.mode("overwrite").parquet("out/customers")
spark.stop()
