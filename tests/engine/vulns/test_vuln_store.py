"""VulnStore on SQLite and PostgreSQL (PATCHIT_TEST_PG_URL; skipped without it): idempotent add,
state and links saved, deadline order, state filter, redaction on the way in."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from patchit_provider.engine.errors import NotFoundError
from patchit_provider.engine.models import VulnFinding, VulnRecord
from patchit_provider.engine.store.vulns import VulnStore
from patchit_provider.engine.vulns.remediate import new_record


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'patchit.db'}"
        return
    base = os.environ.get("PATCHIT_TEST_PG_URL", "").strip()
    if not base:
        if os.environ.get("PATCHIT_REQUIRE_PG") == "1":
            pytest.fail("PATCHIT_REQUIRE_PG=1 but PATCHIT_TEST_PG_URL is not set")
        pytest.skip("PATCHIT_TEST_PG_URL is not set")
    schema = "patchit_test_" + uuid.uuid4().hex[:12]
    admin = create_engine(make_url(base), connect_args={"connect_timeout": 5})
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield (
            make_url(base)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def _finding(package: str, deadline: str, fixed: str | None = "2.0") -> VulnFinding:
    return VulnFinding(
        package=package,
        version="1.0",
        advisories=[f"GHSA-{package}-0001"],
        fixed_version=fixed,
        action="upgrade" if fixed else "accept_or_mitigate",
        deadline=deadline,
        severity="high",
        vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",
        base_score=7.5,
    )


def test_add_is_idempotent_and_save_keeps_state_and_links(url):
    with VulnStore(url) as store:
        record, created = store.add(new_record(_finding("alpha", "2027-01-01"), "/srv/p", "scan"))
        assert created and record.state == "open"
        record.state, record.branch, record.escalation = "published", f"patchit/{record.finding_id}", ""
        store.save(record)
        again, created = store.add(new_record(_finding("alpha", "2027-01-01"), "/srv/p", "ingest:bob"))
        assert not created and again.state == "published" and again.branch == f"patchit/{record.finding_id}"
        assert again.finding.vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"  # readable, not redacted
        other, _ = store.add(new_record(_finding("beta", "2026-12-20", fixed=None), "/srv/p", "scan"))
        assert other.state == "accepted_or_mitigated" and other.expires == "2026-12-20"
        assert [r.finding.package for r in store.list()] == ["beta", "alpha"]  # soonest deadline first
        assert [r.finding.package for r in store.list(state="published")] == ["alpha"]
        with pytest.raises(NotFoundError):
            store.save(VulnRecord(finding_id="vf-missing", finding=_finding("gamma", "2027-01-01")))


def test_secrets_are_redacted_before_storing(url):
    with VulnStore(url) as store:
        record = new_record(_finding("alpha", "2027-01-01"), "/srv/p", "scan")
        record.escalation = "index https://user:hunter2secretpassword@pypi.internal/simple refused"
        stored, _ = store.add(record)
        assert "hunter2secretpassword" not in stored.escalation
        assert "hunter2secretpassword" not in store.get(record.finding_id).model_dump_json()
