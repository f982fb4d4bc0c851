def score(lead: dict) -> int:
    points = 0
    if lead["visits"] > 10
        points += 5
    if lead["country"] in {"DE", "AT", "CH"}:
        points += 2
    return points
