"""Airflow's own metadata tables: a missing table or column among them is no pipeline's schema
problem but an uninitialized or unmigrated metadata database (`airflow db migrate`).

Table names: the installed Airflow 3.3 ORM (`airflow.models.import_all_models()`, then
`Base.metadata.tables`) and Airflow 2's ERD
(https://airflow.apache.org/docs/apache-airflow/2.10.5/database-erd-ref.html).
"""

from __future__ import annotations

import re

from patchit_provider.engine.taxonomy import Category as C
from patchit_provider.engine.triage.catalogs.base import Verdict

AIRFLOW3_TABLES = frozenset(
    """
asset asset_active asset_alias asset_alias_asset asset_alias_asset_event asset_dag_run_queue asset_event
asset_partition_dag_run asset_state_store asset_watcher backfill backfill_dag_run callback connection
connection_test_request dag dag_bundle dag_bundle_team dag_code dag_favorite dag_owner_attributes
dag_priority_parsing_request dag_run dag_run_note dag_schedule_asset_alias_reference dag_schedule_asset_name_reference
dag_schedule_asset_reference dag_schedule_asset_uri_reference dag_tag dag_version dag_warning dagrun_asset_event
deadline deadline_alert hitl_detail hitl_detail_history import_error job log log_template partitioned_asset_key_log
rendered_task_instance_fields revoked_token serialized_dag slot_pool task_inlet_asset_reference task_instance
task_instance_history task_instance_note task_map task_outlet_asset_reference task_reschedule task_state_store team
trigger variable xcom
""".split()
)
AIRFLOW2_TABLES = frozenset(
    """
ab_permission ab_permission_view ab_permission_view_role ab_register_user ab_role ab_user ab_user_role ab_view_menu
alembic_version callback_request dag_pickle dag_schedule_dataset_reference dataset dataset_dag_run_queue
dataset_event dagrun_dataset_event session sla_miss task_fail task_outlet_dataset_reference
dag_schedule_dataset_alias_reference dataset_alias dataset_alias_dataset dataset_alias_dataset_event
""".split()
)
TABLES = AIRFLOW3_TABLES | AIRFLOW2_TABLES

VERDICT = Verdict(
    C.CONFIG_MISSING,
    0.85,
    "https://airflow.apache.org/docs/apache-airflow/stable/howto/set-up-database.html",
    "the Airflow metadata database is not initialized or not migrated to the installed Airflow (airflow db migrate)",
)

_OBJECT = re.compile(
    r"no such table: (?:main\.)?(?P<a>\w+)|relation \"(?:public\.)?(?P<b>\w+)\" does not exist"
    r"|no such column: (?P<c>\w+)\.\w+|column \"?(?P<d>\w+)\.\w+\"? does not exist|Table '\w+\.(?P<e>\w+)' doesn't exist"
    r"|Unknown column '(?P<f>\w+)\.\w+'"
)


def metadata_object(message: str) -> str | None:
    """The Airflow metadata table the message says is missing (or lacks a column), if any."""
    match = _OBJECT.search(message[:4000])
    if not match:
        return None
    name = next(g for g in match.groups() if g)
    return name if name in TABLES else None
