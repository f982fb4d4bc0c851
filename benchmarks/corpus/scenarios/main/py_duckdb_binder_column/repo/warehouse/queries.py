SQL = """
SELECT cust_id, sum(amount) AS total
FROM orders
GROUP BY cust_id
"""


def daily_totals(con):
    return con.execute(SQL).fetchall()
