"""A page from another local port frames an incident page: Chromium must refuse to show it
(CSP `frame-ancestors 'self'`, X-Frame-Options), so nothing on it can be clicked, Approve
included. The same page opened directly shows the incident (the test can fail)."""

from __future__ import annotations

import threading
import uuid
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

pytestmark = pytest.mark.browser


@pytest.fixture
def attacker_site(tmp_path):
    """A static site on 127.0.0.1, another port than Airflow's (same site for the browser)."""
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_incident_page_cannot_be_framed_by_another_port(base, token, browser_context, attacker_site, artifacts):
    event = {
        "event_id": f"browser-frame-{uuid.uuid4().hex[:12]}",
        "platform": "generic",
        "pipeline_id": "framed_job",
        "run_id": "frame-run",
        "log_text": "RuntimeError: framing-canary-5e1f\n",
    }
    resp = httpx.post(
        f"{base}/patchit/events/ingest", json=event, timeout=60, headers={"Authorization": f"Bearer {token}"}
    )
    assert resp.status_code == 201, resp.text
    target = f"{base}/patchit/incidents/{resp.json()['incident_id']}"
    folder, origin = attacker_site
    (folder / "index.html").write_text(
        f'<!doctype html><h1>win a prize</h1><iframe id="f" src="{target}" width="900" height="600"></iframe>'
    )

    page = browser_context.new_page()
    refusals: list[str] = []
    page.on(
        "console",
        lambda msg: (
            refusals.append(msg.text) if "frame-ancestors" in msg.text or "X-Frame-Options" in msg.text else None
        ),
    )
    try:
        direct = page.goto(target)
        assert direct.status == 200 and "framing-canary-5e1f" in page.content()  # visible when not framed

        page.goto(f"{origin}/index.html")
        page.wait_for_timeout(2_000)
        page.screenshot(path=str(artifacts / "framing-refused.png"), full_page=True)
        frames = [f for f in page.frames if f is not page.main_frame]
        assert len(frames) == 1
        shown = frames[0].content()
        assert "framing-canary-5e1f" not in shown and "<form" not in shown and "Approve" not in shown
        assert refusals, "Chromium reported no frame-ancestors / X-Frame-Options refusal"
    finally:
        page.close()
