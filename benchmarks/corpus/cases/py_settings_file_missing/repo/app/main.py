from app.config import load_settings

settings = load_settings()
print(settings["target_schema"])
