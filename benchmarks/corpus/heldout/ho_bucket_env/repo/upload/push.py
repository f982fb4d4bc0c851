from upload.config import from_env

config = from_env()
print(f"s3://{config.bucket}/{config.prefix}")
