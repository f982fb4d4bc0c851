"""PATCHIT's UI and ingest API: a FastAPI app the plugin mounts at `/patchit`."""

from patchit_provider.www.app import create_app

__all__ = ["create_app"]
