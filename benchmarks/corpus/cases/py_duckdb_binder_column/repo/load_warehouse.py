import duckdb

from warehouse.queries import daily_totals

con = duckdb.connect()
con.execute("CREATE TABLE orders AS SELECT * FROM read_csv_auto('data/orders.csv')")
print(daily_totals(con))
