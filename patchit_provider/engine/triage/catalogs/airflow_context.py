"""Context keys Airflow 3 removed, each with its one-to-one replacement where there is one.

One table for triage (a failure that names a removed key is the DAG's code: catalogs/messages.py)
and for the migration fixer (patching/migrate.py renames a key only where a replacement exists).
Sources: Airflow's release notes, 'Airflow 3.0.0 (2025-04-22)', Significant Changes ("Renamed
execution_date to logical_date ... Removed execution_date, next_ds, next_ds_nodash,
next_execution_date, prev_ds, prev_ds_nodash, prev_execution_date, prev_execution_date_success,
tomorrow_ds, yesterday_ds and yesterday_ds_nodash from Airflow context"); ruff's AIR301, which
also reports `conf` (astral-sh/ruff#15144) and renames `triggering_dataset_events` to
`triggering_asset_events`; Airflow 3.3's airflow.sdk.definitions.context.Context has
`logical_date` and `triggering_asset_events` and none of the removed keys.
"""

from __future__ import annotations

from dataclasses import dataclass

RELEASE_NOTES = "apache/airflow RELEASE_NOTES.rst, 'Airflow 3.0.0 (2025-04-22)', Significant Changes"
RUFF_AIR301 = (
    "https://docs.astral.sh/ruff/rules/airflow3-removal/ (crates/ruff_linter/src/rules/airflow/rules/removal_in_3.rs)"
)


@dataclass(frozen=True)
class Removal:
    """One entry of Airflow's migration notes: what was removed, its one-to-one replacement
    (None: there is none, a person decides) and where Airflow says so."""

    replacement: str | None
    source: str


_NO_ONE_TO_ONE = RELEASE_NOTES + " (no one-to-one replacement: data_interval_* or macros, by intent)"

REMOVED_CONTEXT_KEYS: dict[str, Removal] = {
    "execution_date": Removal("logical_date", RELEASE_NOTES),
    "triggering_dataset_events": Removal("triggering_asset_events", RUFF_AIR301),
    **{
        key: Removal(None, _NO_ONE_TO_ONE)
        for key in (
            "next_ds",
            "next_ds_nodash",
            "next_execution_date",
            "prev_ds",
            "prev_ds_nodash",
            "prev_execution_date",
            "prev_execution_date_success",
            "tomorrow_ds",
            "tomorrow_ds_nodash",
            "yesterday_ds",
            "yesterday_ds_nodash",
        )
    },
    "conf": Removal(None, RUFF_AIR301),
}
