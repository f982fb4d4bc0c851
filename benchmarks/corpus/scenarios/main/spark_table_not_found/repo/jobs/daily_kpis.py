from common.spark import get_session

spark = get_session("daily_kpis")
orders = spark.read.option("header", True).option("inferSchema", True).csv("data/orders.csv")
orders.createOrReplaceTempView("orders")
kpis = spark.sql("""
    SELECT o.country, count(*) AS orders, count(DISTINCT s.session_id) AS sessions
    FROM orders o JOIN web_sessions s ON o.customer_id = s.customer_id
    GROUP BY o.country
""")
kpis.show()
spark.stop()
