import os

import pyodbc

conn = pyodbc.connect(os.environ.get("ERP_ODBC", "DSN=erp"))
print(conn.cursor().execute("SELECT 1").fetchone())
