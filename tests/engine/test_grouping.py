"""An event storm: 1,000 failures with 10 causes give 10 incidents and lose no occurrence."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from patchit_provider.engine.models import ErrorInfo, FailureEvent, IncidentState
from patchit_provider.engine.pipeline import Remediator
from patchit_provider.engine.settings import PatchitSettings
from patchit_provider.engine.store import open_store

# Ten distinct causes; the {placeholders} vary between occurrences as they do in real runs.
CAUSES = [
    ("KeyError", "'customer_id'"),
    ("KeyError", "'order_total'"),
    ("json.decoder.JSONDecodeError", "Expecting ',' delimiter: line {n} column {m} (char {c})"),
    ("FileNotFoundError", "[Errno 2] No such file or directory: '/tmp/tmp{tmp}/exports/orders_{date}.csv'"),
    ("ConnectionRefusedError", "[Errno 111] Connection refused"),
    ("airflow.sdk.exceptions.AirflowRuntimeError", "CONNECTION_NOT_FOUND: The conn_id `warehouse_{env}` isn't defined"),
    ("ValueError", "invalid literal for int() with base 10: 'N/A'"),
    ("NameError", "name 'ordrs' is not defined"),
    ("MemoryError", ""),
    ("airflow.sdk.exceptions.AirflowTaskTimeout", "Timeout, PID: {pid}"),
]


def _storm(count: int, seed: int = 7) -> list[FailureEvent]:
    rng = random.Random(seed)
    events = []
    for i in range(count):
        cause = i % len(CAUSES)
        exc_type, template = CAUSES[cause]
        message = template.format(
            n=rng.randint(1, 900),
            m=rng.randint(1, 80),
            c=rng.randint(1, 99999),
            tmp=f"{rng.getrandbits(40):x}",
            date=f"2026-11-{rng.randint(1, 28):02d}",
            env="prod",
            pid=rng.randint(1000, 99999),
        )
        traceback = (
            "Traceback (most recent call last):\n"
            f'  File "/opt/airflow/dags/etl/step_{cause}.py", line {10 + cause}, in run_{cause}\n'
            "    do_work()\n"
            f"{exc_type}: {message}\n"
        )
        events.append(
            FailureEvent(
                pipeline_id=f"dag_{cause % 4}",
                run_id=f"scheduled__2026-11-{(i % 28) + 1:02d}T03:00:00+00:00__{i}",
                task_id=f"step_{cause}",
                try_number=1 + i % 3,
                error=ErrorInfo(type=exc_type, message=message, traceback=traceback),
            )
        )
    rng.shuffle(events)
    return events


def test_storm_of_1000_failures_with_10_causes_gives_10_incidents(tmp_path: Path):
    events = _storm(1000)
    with open_store(f"sqlite:///{tmp_path}/store.db") as store:
        remediator = Remediator(store, PatchitSettings())

        def handle(event: FailureEvent) -> str:
            incident = remediator.receive(event)
            remediator.collect_evidence(incident.incident_id)
            return remediator.triage(incident.incident_id).incident_id

        with ThreadPoolExecutor(max_workers=4) as pool:
            handled = list(pool.map(handle, events))

        assert len(set(handled)) == 1000
        open_incidents = store.list_incidents(limit=100)
        assert len(open_incidents) == 10 == store.count_incidents()
        assert len({incident.fingerprint for incident in open_incidents}) == 10
        assert sum(incident.occurrences for incident in open_incidents) == 1000
        seen = {e.event_id for incident in open_incidents for e in store.occurrences(incident.incident_id)}
        assert seen == {event.event_id for event in events}, "no occurrence lost"
        assert store.count_incidents(state=IncidentState.GROUPED) == 990
        primary = open_incidents[0]
        kinds = [entry.kind for entry in store.audit_trail(primary.incident_id)]
        assert kinds.count("occurrence.added") == primary.occurrences - 1


def test_same_cause_in_two_dags_gives_two_incidents_each_with_only_its_own_occurrences(tmp_path: Path):
    """Grouping is scoped by (platform, pipeline_id): a reader of one DAG never sees, through an
    incident's occurrences, the runs of another DAG that failed the same way."""

    def failure(dag_id: str, run: int) -> FailureEvent:
        traceback = (
            "Traceback (most recent call last):\n"
            '  File "/opt/airflow/dags/etl/shared.py", line 12, in load\n'
            "    do_work()\n"
            "KeyError: 'customer_id'\n"
        )
        return FailureEvent(
            pipeline_id=dag_id,
            run_id=f"scheduled__{run}",
            task_id="load",
            try_number=1,
            error=ErrorInfo(type="KeyError", message="'customer_id'", traceback=traceback),
        )

    events = [failure(dag_id, run) for run in range(3) for dag_id in ("sales_daily", "hr_payroll")]
    with open_store(f"sqlite:///{tmp_path}/store.db") as store:
        remediator = Remediator(store, PatchitSettings())
        for event in events:
            incident = remediator.receive(event)
            remediator.collect_evidence(incident.incident_id)
            remediator.triage(incident.incident_id)

        open_incidents = store.list_incidents(state=IncidentState.TRIAGED, limit=10)
        assert sorted(i.event.pipeline_id for i in open_incidents) == ["hr_payroll", "sales_daily"]
        assert len({i.fingerprint for i in open_incidents}) == 1, "same cause, same fingerprint"
        for incident in open_incidents:
            assert incident.occurrences == 3
            assert {e.pipeline_id for e in store.occurrences(incident.incident_id)} == {incident.event.pipeline_id}
        for grouped in store.list_incidents(state=IncidentState.GROUPED, limit=10):
            primary = store.get_incident(grouped.grouped_into)
            assert primary.event.pipeline_id == grouped.event.pipeline_id
        # the same fingerprint from another platform's pipeline of the same name stays apart too
        dbt = FailureEvent.model_validate(
            {**failure("sales_daily", 9).model_dump(exclude={"event_id"}), "platform": "dbt"}
        )
        incident = remediator.receive(dbt)
        remediator.collect_evidence(incident.incident_id)
        assert remediator.triage(incident.incident_id).state is IncidentState.TRIAGED
