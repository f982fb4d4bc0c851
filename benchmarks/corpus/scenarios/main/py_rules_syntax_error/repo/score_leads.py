from scoring.rules import score

print(score({"visits": 12, "country": "DE"}))
