"""The UI fixtures of tests/www (a migrated Airflow DB, real users and JWTs, the FastAPI app on a
temporary store), reused so the secret corpus is checked on the pages a user sees."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "www"))  # patchit_www_auth, www_factories

from www.conftest import (  # noqa: E402,F401
    airflow_db,
    app,
    auth_manager,
    client,
    first_auth_manager,
    handoff,
    headers_for,
    store,
    token_for,
)
