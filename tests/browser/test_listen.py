"""Every service of the demo listens on 127.0.0.1 only (scripts/demo.sh, airflow/components.sh).

Checked on the running demo Airflow of the browser tests: every listening TCP socket of a
process in its session. Airflow 3.3.2's log server would bind every interface (host ""), which
is why the demo runs scheduler and triggerer with --skip-serve-logs.
"""

from __future__ import annotations

import os

import psutil
import pytest

pytestmark = pytest.mark.browser


def test_demo_services_listen_only_on_loopback(airflow_standalone):
    session = int((airflow_standalone["state"] / "standalone.pid").read_text().strip())
    members = set()
    for proc in psutil.process_iter(["pid"]):
        try:
            if os.getsid(proc.pid) == session:
                members.add(proc.pid)
        except (ProcessLookupError, PermissionError):
            continue
    assert members, "no process of the demo's session is running"
    listening = [
        (c.pid, c.laddr.ip, c.laddr.port)
        for c in psutil.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN and c.pid in members
    ]
    print(f"\n[demo] listening sockets of the demo's session: {sorted(listening)}")
    assert listening, "the demo's API server should be listening"
    assert all(ip == "127.0.0.1" for _, ip, _ in listening), listening
    assert not [p for _, _, p in listening if p in (8793, 8794)], "a log server is running"
