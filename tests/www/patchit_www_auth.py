"""A real SimpleAuthManager whose DAG permissions can be narrowed per user, for the tests.

The simple auth manager grants every role access to every DAG; per-DAG permissions need an
auth manager that has them (FAB, Keycloak, ...). This one keeps every other behaviour of the
simple one (users, passwords, JWTs, roles) and limits the users named in RESTRICTED to the
DAGs listed for them, through the same `is_authorized_dag` hook a real one implements.
"""

from __future__ import annotations

from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

# username -> DAG ids that user may access (any method); users not listed: role rules only.
RESTRICTED: dict[str, set[str]] = {
    "alice": {"sales_daily"},
    "bob": {"hr_payroll", "patchit_remediation"},
    "carol": {"patchit_remediation"},
}
# username -> DAG ids that user may only read (GET), on top of RESTRICTED.
READ_ONLY: dict[str, set[str]] = {"carol": {"sales_daily"}}


class RestrictedAuthManager(SimpleAuthManager):
    def is_authorized_dag(self, *, method, user, access_entity=None, details=None) -> bool:
        if details is not None and details.id in READ_ONLY.get(user.get_name(), set()):
            return method == "GET" and super().is_authorized_dag(
                method=method, user=user, access_entity=access_entity, details=details
            )
        allowed = RESTRICTED.get(user.get_name())
        if allowed is not None and (details is None or details.id not in allowed):
            return False
        return super().is_authorized_dag(method=method, user=user, access_entity=access_entity, details=details)
