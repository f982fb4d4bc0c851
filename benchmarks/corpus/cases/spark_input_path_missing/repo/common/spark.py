from pyspark.sql import SparkSession


def get_session(app: str) -> SparkSession:
    return SparkSession.builder.appName(app).getOrCreate()
