"""POST /events/ingest cannot be turned against the host, another DAG's scope or the browser:
every refusal is a 4xx that names its reason, and nothing is stored or handed off."""

from __future__ import annotations

import json
import subprocess

import pytest

URL = "/events/ingest"


def _git_repo(path, files):
    path.mkdir(parents=True)
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return path


@pytest.fixture
def repos(tmp_path):
    """A configured pipeline repository and a private one elsewhere on the host."""
    mapped = _git_repo(tmp_path / "pipelines", {"models/orders.sql": "select amount from raw\n"})
    private = _git_repo(tmp_path / "private", {"secrets.py": "TOKEN = 'host-canary-7c1d'\n"})
    return mapped, private


@pytest.fixture
def settings(repos):
    from patchit_provider.engine.settings import PatchitSettings

    return PatchitSettings(repo_map={"dbt_models": str(repos[0])})


@pytest.fixture
def client(store, handoff, auth_manager, settings):
    from fastapi.testclient import TestClient

    from patchit_provider.www import create_app

    app = create_app(lambda: store, hand_off=handoff, max_event_bytes=64_000, settings=settings, origin=None)
    with TestClient(app, base_url="http://testserver/patchit", root_path="/patchit") as test_client:
        yield test_client


@pytest.fixture
def bob(headers_for):
    return headers_for("bob")


def _event(**overrides):
    body = {
        "platform": "dbt",
        "pipeline_id": "dbt_models",
        "run_id": "cloud-run-881",
        "task_id": "model.orders",
        "log_text": 'Database Error in model orders\n  column "amount" does not exist\n',
    }
    body.update(overrides)
    return body


def _refused(response, store, handoff, loc=None, words=()):
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    detail = response.json()["detail"]
    text = json.dumps(detail)
    if loc is not None:
        assert loc in [error["loc"] for error in detail], detail
    for word in words:
        assert word in text, (word, detail)
    assert store.count_incidents() == 0 and handoff.calls == []


# -- no host files, no other scope -------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "loc", "words"),
    [
        ({"log_uri": "file:///etc/hostname"}, ["body", "log_uri"], ["file://"]),
        ({"log_uri": "FILE:///etc/hostname"}, ["body", "log_uri"], ["file://"]),
        ({"log_uri": "/etc/hostname"}, ["body", "log_uri"], ["local path"]),
        ({"log_uri": "~/.aws/credentials"}, ["body", "log_uri"], ["local path"]),
        ({"log_uri": "C:\\logs\\x.log"}, ["body", "log_uri"], ["local path"]),
        ({"log_uri": "http://logs.example.com/x.log"}, ["body", "log_uri"], ["ingest_uri_schemes"]),
        ({"log_uri": "https://127.0.0.1:8080/api/v2/x"}, ["body", "log_uri"], ["private network"]),
        ({"log_uri": "https://169.254.169.254/latest/meta-data"}, ["body", "log_uri"], ["private network"]),
        ({"log_uri": "https://localhost/x"}, ["body", "log_uri"], ["private network"]),
        ({"log_uri": "https://user:pw@logs.example.com/x"}, ["body", "log_uri"], ["credentials"]),
        ({"log_uri": "s3:///no-bucket"}, ["body", "log_uri"], ["no host"]),
        (
            {"artifact_uris": ["s3://ok/run_results.json", "/home/airflow/target"]},
            ["body", "artifact_uris", 1],
            ["local path"],
        ),
        ({"artifact_uris": ["file:///srv/dbt/target/manifest.json"]}, ["body", "artifact_uris", 0], ["file://"]),
        ({"platform": "airflow", "pipeline_id": "hr_payroll"}, ["body", "platform"], ["capture"]),
    ],
)
def test_host_files_and_airflow_scope_are_refused(client, bob, store, handoff, overrides, loc, words):
    _refused(client.post(URL, json=_event(**overrides), headers=bob), store, handoff, loc, words)


def test_code_path_only_inside_a_configured_repository(client, bob, store, handoff, repos):
    mapped, private = repos
    for path in (str(private / "secrets.py"), "/etc/hostname", str(mapped / ".." / "private" / "secrets.py"), "~/x.py"):
        _refused(client.post(URL, json=_event(code_path=path), headers=bob), store, handoff, ["body", "code_path"])
    # a symlink inside the repository that points out of it is outside too
    (mapped / "escape.py").symlink_to(private / "secrets.py")
    _refused(
        client.post(URL, json=_event(code_path=str(mapped / "escape.py")), headers=bob),
        store,
        handoff,
        ["body", "code_path"],
        ["outside"],
    )
    # a pipeline that repo_map does not map cannot use a relative path either
    _refused(
        client.post(URL, json=_event(pipeline_id="other", code_path="models/orders.sql"), headers=bob),
        store,
        handoff,
        ["body", "code_path"],
        ["repo_map"],
    )
    assert (
        client.post(URL, json=_event(code_path=str(mapped / "models" / "orders.sql")), headers=bob).status_code == 201
    )
    assert client.post(URL, json=_event(run_id="r2", code_path="models/orders.sql"), headers=bob).status_code == 201


def test_code_path_is_refused_when_no_repository_is_configured(store, handoff, auth_manager, bob, repos):
    from fastapi.testclient import TestClient

    from patchit_provider.engine.settings import PatchitSettings
    from patchit_provider.www import create_app

    app = create_app(lambda: store, hand_off=handoff, settings=PatchitSettings(), origin=None)
    with TestClient(app) as plain:
        response = plain.post(URL, json=_event(code_path=str(repos[0] / "models" / "orders.sql")), headers=bob)
    _refused(response, store, handoff, ["body", "code_path"], ["none is configured"])


def test_configured_schemes_and_hosts(store, handoff, auth_manager, bob):
    from fastapi.testclient import TestClient

    from patchit_provider.engine.settings import PatchitSettings
    from patchit_provider.www import create_app

    settings = PatchitSettings(ingest_uri_schemes="https", ingest_uri_hosts="*.blob.example.com,127.0.0.1")
    app = create_app(lambda: store, hand_off=handoff, settings=settings, origin=None)
    with TestClient(app) as plain:
        assert plain.post(URL, json=_event(log_uri="s3://bucket/x.log"), headers=bob).status_code == 422
        assert plain.post(URL, json=_event(log_uri="https://evil.example.org/x.log"), headers=bob).status_code == 422
        assert (
            plain.post(URL, json=_event(log_uri="https://acct.blob.example.com/x.log"), headers=bob).status_code == 201
        )
        # listed explicitly, a local address is allowed (a test relay, say)
        assert (
            plain.post(URL, json=_event(run_id="r2", log_uri="https://127.0.0.1/x.log"), headers=bob).status_code == 201
        )


def test_ingest_ids_live_in_the_callers_namespace(client, bob, headers_for, store, settings):
    """Posting the id capture will compute for a real failure does not pre-empt it; two callers
    using the same id get two incidents; a caller's repeat is still idempotent."""
    from patchit_provider.engine.models import FailureEvent
    from patchit_provider.engine.pipeline import Remediator

    real = FailureEvent(
        platform="airflow", pipeline_id="hr_payroll", run_id="scheduled__2026-12-01", task_id="pay", try_number=1
    )
    posted = client.post(URL, json=_event(event_id=real.event_id), headers=bob)
    assert posted.status_code == 201
    assert posted.json()["event_id"] == f"ingest:bob:{real.event_id}"
    assert posted.json()["handoff"]["run_id"] == f"patchit__ingest:bob:{real.event_id}"
    # capture of the real failure still opens its own incident
    incident, created = Remediator(store, settings).receive_created(real)
    assert created and incident.incident_id != posted.json()["incident_id"]
    # another caller, same id: another incident; bob again: the same one (200)
    admin = client.post(URL, json=_event(event_id=real.event_id), headers=headers_for("admin"))
    assert admin.status_code == 201 and admin.json()["event_id"] == f"ingest:admin:{real.event_id}"
    again = client.post(URL, json=_event(event_id=real.event_id), headers=bob)
    assert again.status_code == 200 and again.json()["incident_id"] == posted.json()["incident_id"]
    assert store.count_incidents() == 3


def test_caller_tags_are_injective_and_run_id_safe():
    import re

    from patchit_provider.engine.intake import caller_tag

    names = ["bob", "Bob", "a@b.com", "a_40b.com", "a~40b.com", "a:b", "ü", "x" * 300, "x" * 301, ""]
    tags = [caller_tag(n) for n in names]
    assert len(set(tags)) == len(names)
    assert all(re.fullmatch(r"[A-Za-z0-9_.~-]{1,66}", t) for t in tags), tags


# -- browser requests ---------------------------------------------------------------------------


def test_cookie_sessions_are_refused(client, token_for, store, handoff):
    client.cookies.set("_token", token_for("admin"))
    try:
        response = client.post(URL, json=_event())
    finally:
        client.cookies.clear()
    assert response.status_code == 401 and "bearer token" in response.json()["detail"]
    assert store.count_incidents() == 0 and handoff.calls == []


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", json.dumps(_event())),
        ("text/plain;charset=UTF-8", json.dumps(_event())),
        ("application/x-www-form-urlencoded", "platform=dbt&pipeline_id=x&run_id=y"),
        ("multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=a\r\n\r\nb\r\n--x--\r\n"),
        (None, json.dumps(_event())),
    ],
)
def test_only_json_bodies(client, bob, store, handoff, content_type, body):
    headers = dict(bob) if content_type is None else {**bob, "Content-Type": content_type}
    response = client.post(URL, content=body.encode(), headers=headers)
    assert response.status_code == 415, response.text
    assert "application/json" in response.json()["detail"]
    assert store.count_incidents() == 0 and handoff.calls == []


def test_a_foreign_origin_is_refused(client, bob, store, handoff):
    response = client.post(URL, json=_event(), headers={**bob, "Origin": "http://127.0.0.1:9999"})
    assert response.status_code == 403 and "Origin" in response.json()["detail"]
    assert store.count_incidents() == 0 and handoff.calls == []
    assert client.post(URL, json=_event(), headers={**bob, "Origin": "http://testserver"}).status_code == 201


# -- input limits ------------------------------------------------------------------------------


def _nested(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


RAW_LIMITS = {  # name: (raw JSON body, loc, words in the reason)
    "date-far-future": ('"detected_at": "9999-12-31T23:59:59-14:00"', ["body", "detected_at"], ["out of range"]),
    "date-year-1": ('"detected_at": "0001-01-01T00:00:00+14:00"', ["body", "detected_at"], ["out of range"]),
    "date-1990": ('"detected_at": "1990-01-01T00:00:00Z"', ["body", "detected_at"], ["between"]),
    "date-next-year": ('"detected_at": "2099-01-01T00:00:00Z"', ["body", "detected_at"], ["between"]),
    "date-naive": ('"detected_at": "2026-11-22T10:00:00"', ["body", "detected_at"], ["timezone"]),
    "lone-surrogate": ('"log_text": "a\\ud800b"', ["body"], ["surrogate"]),
    "lone-surrogate-key": ('"metadata": {"\\udfff": 1}', ["body"], ["surrogate"]),
    "nul": ('"task_id": "a\\u0000b"', ["body", "task_id"], ["NUL"]),
    "nul-in-metadata": ('"metadata": {"k": "a\\u0000"}', ["body", "metadata"], ["NUL"]),
    "metadata-depth-9": (f'"metadata": {_nested(9)}', ["body", "metadata"], ["deeper than 8"]),
    "metadata-depth-256": (f'"metadata": {_nested(256)}', ["body"], ["nested deeper"]),
    "metadata-depth-950": (f'"metadata": {_nested(950)}', ["body"], ["nested deeper"]),
    "metadata-keys": ('"metadata": {' + ",".join(f'"k{i}": {i}' for i in range(129)) + "}", ["body", "metadata"], []),
    "metadata-list": (
        '"metadata": {"l": [' + ",".join("1" * 1 for _ in range(257)) + "]}",
        ["body", "metadata"],
        ["items"],
    ),
    "metadata-big-int": ('"metadata": {"n": 18446744073709551616}', ["body", "metadata"], ["2^53"]),
    "try-10e400": ('"try_number": 1' + "0" * 400, ["body", "try_number"], []),
    "try-2e63": ('"try_number": 9223372036854775808', ["body", "try_number"], []),
    "try-string": ('"try_number": "3"', ["body", "try_number"], ["integer"]),
    "map-index-huge": ('"map_index": 4294967296', ["body", "map_index"], []),
    "map-index-negative": ('"map_index": -2', ["body", "map_index"], []),
    "pipeline-long": (f'"pipeline_id": "{"p" * 251}"', ["body", "pipeline_id"], []),
    "event-id-long": (f'"event_id": "{"e" * 161}"', ["body", "event_id"], ["160"]),
    "uri-long": (f'"log_uri": "s3://b/{"k" * 2100}"', ["body", "log_uri"], []),
    "too-many-uris": (
        '"artifact_uris": [' + ",".join('"s3://b/k"' for _ in range(33)) + "]",
        ["body", "artifact_uris"],
        [],
    ),
    "too-many-frames": (
        '"error": {"type": "E", "frames": [' + ",".join('{"path": "a.py"}' for _ in range(201)) + "]}",
        ["body", "error", "frames"],
        [],
    ),
    "frame-line": (
        '"error": {"type": "E", "frames": [{"path": "a.py", "line": 4294967296}]}',
        ["body", "error", "frames", 0, "line"],
        [],
    ),
}


@pytest.mark.parametrize("case", list(RAW_LIMITS))
def test_limits_are_422_with_a_readable_reason(client, bob, store, handoff, case):
    fragment, loc, words = RAW_LIMITS[case]
    body = '{"platform": "dbt", "pipeline_id": "dbt_models", "run_id": "r1", ' + fragment + "}"
    if case == "pipeline-long":
        body = '{"platform": "dbt", "run_id": "r1", ' + fragment + "}"
    response = client.post(URL, content=body.encode(), headers={**bob, "Content-Type": "application/json"})
    assert response.status_code == 422, (case, response.status_code, response.text[:300])
    _refused(response, store, handoff, loc, words)
    assert all(error["msg"] for error in response.json()["detail"])


@pytest.mark.parametrize("offset", [2**63, 2**64, -1, 10**10])
def test_list_offsets_are_bounded(client, bob, offset):
    response = client.get("/api/incidents", params={"offset": offset}, headers=bob)
    assert response.status_code == 422, response.text
    assert client.get("/api/incidents", params={"offset": 10**9}, headers=bob).status_code == 200


# -- the engine never opens an ingested URI ----------------------------------------------------


def test_evidence_never_reads_files_an_ingested_event_names(tmp_path):
    """Even if a local path slipped into a stored ingested event, the engine does not open it:
    no log file, no dbt artifacts, no peek at an input file outside the repository. The same
    event from capture reads them (the test can fail)."""
    from patchit_provider.engine.evidence import collect_evidence
    from patchit_provider.engine.models import ErrorInfo, FailureEvent
    from patchit_provider.engine.settings import PatchitSettings

    log = tmp_path / "host.log"
    log.write_text("Traceback (most recent call last):\nValueError: log-canary-41f2\n")
    target = tmp_path / "target"
    target.mkdir()
    (target / "run_results.json").write_text(
        json.dumps({"results": [{"unique_id": "model.p.dbt-canary-9a7e", "status": "error", "message": "boom"}]})
    )
    data = tmp_path / "host_input.csv"
    data.write_text("peek-canary-0b3c,amount\n1,2\n")
    fields = dict(
        platform="dbt",
        pipeline_id="p",
        run_id="r",
        log_uri=str(log),
        artifact_uris=[f"file://{target}"],
        error=ErrorInfo(type="KeyError", message=f"'amount' while reading {data}"),
    )

    def dumped(event_id: str) -> str:
        return collect_evidence(FailureEvent(event_id=event_id, **fields), None, PatchitSettings()).model_dump_json()

    ingested = dumped("ingest:bob:x")
    for canary in ("log-canary-41f2", "dbt-canary-9a7e", "peek-canary-0b3c"):
        assert canary not in ingested
    assert "came from the ingest API" in ingested
    captured = dumped("0123456789abcdef01234567")
    assert "dbt-canary-9a7e" in captured and "peek-canary-0b3c" in captured


@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
def test_list_filters_with_out_of_range_dates_are_422(client, bob, value):
    for param in ("since", "until"):
        response = client.get("/api/incidents", params={param: value}, headers=bob)
        assert response.status_code == 422 and "out of range" in response.text, response.text


def test_the_same_limits_clean_instead_of_refusing_for_capture():
    """A live exception (Python input) with an undecodable file name, a NUL, an overlong code
    line or a very deep traceback still becomes an event: capture never loses a failure."""
    from patchit_provider.engine.models import ErrorInfo, FailureEvent

    frames = [{"path": f"/dags/f{i}.py", "line": i, "code": "x" * 5_000} for i in range(300)]
    event = FailureEvent(
        platform="airflow",
        pipeline_id="sales_daily",
        run_id="r",
        task_id="t",
        error=ErrorInfo(type="FileNotFoundError", message="no file '/data/\udcff.csv'\x00", frames=frames),
    )
    assert event.error.message == "no file '/data/\ufffd.csv'"
    assert len(event.error.frames) == 200 and event.error.frames[-1].path == "/dags/f299.py"
    assert len(event.error.frames[0].code) == 4_096
    event.model_dump_json()  # stores and reads back
