import json
import os


def load_settings() -> dict:
    path = os.path.join("config", os.getenv("PIPELINE_ENV", "prod") + ".json")
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)
