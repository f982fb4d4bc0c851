class MonthlyReport:
    def __init__(self) -> None:
        self.rows: list[tuple[str, float]] = []

    def record(self, month: str, value: float) -> None:
        self.rows.add((month, value))


report = MonthlyReport()
for month, value in [("2024-04", 10.0), ("2024-05", 12.0)]:
    report.record(month, value)
print(report.rows)
