import os
from dataclasses import dataclass


@dataclass
class UploadConfig:
    bucket: str
    prefix: str


def from_env() -> UploadConfig:
    return UploadConfig(bucket=os.environ["EXPORT_BUCKET"], prefix=os.environ.get("EXPORT_PREFIX", "daily/"))
