import json
import sys


def read_events(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)["events"]


if __name__ == "__main__":
    events = read_events(sys.argv[1])
    print(f"{len(events)} events")
