import json

with open("audit/2024-05-01.jsonl", encoding="utf-8") as handle:
    entries = [json.loads(line) for line in handle if line.strip()]
print(len(entries))
