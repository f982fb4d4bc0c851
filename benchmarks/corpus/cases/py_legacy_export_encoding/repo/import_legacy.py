from pathlib import Path

rows = Path("exports/customers_legacy.txt").read_text(encoding="utf-8").splitlines()
print(len(rows))
