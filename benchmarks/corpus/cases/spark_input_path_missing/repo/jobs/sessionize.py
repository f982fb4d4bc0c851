import sys

from common.spark import get_session

day = sys.argv[1]
spark = get_session("sessionize")
events = spark.read.json(f"lake/events/dt={day}")
events.groupBy("user_id").count().show()
spark.stop()
