"""The evidence-driven fixers (rename to a unique replacement, dbt ref, missing package) on real
corpus failures: each proposal is exactly the minimal, correct diff, and nothing is guessed."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest

from patchit_provider.cli import _cli_event, _settings
from patchit_provider.engine.evidence import collect_evidence
from patchit_provider.engine.patching import diff_stats, propose_patch
from patchit_provider.engine.patching.rename import sql_rename
from patchit_provider.engine.patching.requirements import distribution_for, missing_package
from patchit_provider.engine.triage import triage as run_triage

from .test_fixers_corpus import CORPUS, committed_copy


def analyse(name: str, tmp_path: Path, prepare=None):
    """(evidence, triage, repo) of a corpus case, as the engine builds them from its log."""
    case = CORPUS / "cases" / name
    repo = committed_copy(case, tmp_path)
    if prepare:
        prepare(repo)
    evidence = collect_evidence(_cli_event(str(case / "log"), tmp_path), repo, _settings(repo))
    return evidence, run_triage(evidence), repo


def test_duckdb_candidate_binding_renames_the_sql_the_culprit_line_runs(tmp_path):
    evidence, triage, repo = analyse("py_duckdb_binder_column", tmp_path)
    assert "replacement: cust_id -> customer_id" in triage.evidence_lines
    proposal = propose_patch(evidence, triage, repo)
    assert proposal.producer == "fixer:replace_identifier" and proposal.files == ["warehouse/queries.py"]
    assert "-SELECT cust_id, sum(amount) AS total\n+SELECT customer_id, sum(amount) AS total\n" in proposal.diff
    assert "-GROUP BY cust_id\n+GROUP BY customer_id\n" in proposal.diff
    assert diff_stats(proposal.diff) == (1, 1, 2, 2)


def test_spark_suggestion_renames_only_the_literal_on_the_culprit_line(tmp_path):
    evidence, triage, repo = analyse("spark_unresolved_column", tmp_path)
    proposal = propose_patch(evidence, triage, repo)
    assert proposal.producer == "fixer:replace_identifier"
    assert '+revenue = orders.groupBy("country").agg(F.sum("amount").alias("revenue"))\n' in proposal.diff
    assert diff_stats(proposal.diff) == (1, 1, 1, 1)


def test_python_rename_leaves_comments_and_other_lines(tmp_path):
    def prepare(repo):
        job = repo / "jobs" / "revenue_by_country.py"
        text = job.read_text().replace('.alias("revenue"))', '.alias("revenue"))  # amount_eur "amount_eur"')
        job.write_text(text + '# "amount_eur"\nLEGACY = "amount_eur"\n')

    evidence, triage, repo = analyse("spark_unresolved_column", tmp_path, prepare)
    proposal = propose_patch(evidence, triage, repo)
    assert (
        '+revenue = orders.groupBy("country").agg(F.sum("amount").alias("revenue"))  # amount_eur "amount_eur"\n'
        in proposal.diff
    )
    assert diff_stats(proposal.diff) == (1, 1, 1, 1)


def test_no_recorded_replacement_no_patch(tmp_path):
    evidence, triage, repo = analyse("py_duckdb_binder_column", tmp_path)
    lines = [line for line in triage.evidence_lines if not line.startswith("replacement:")]
    assert propose_patch(evidence, triage.model_copy(update={"evidence_lines": lines}), repo) is None


def test_dbt_ref_to_misspelled_node(tmp_path):
    def prepare(repo):
        model = repo / "models" / "marts" / "fct_orders.sql"
        model.write_text("{# was ref('stg_order') #}\n" + model.read_text())

    evidence, triage, repo = analyse("dbt_missing_ref_typo", tmp_path, prepare)
    proposal = propose_patch(evidence, triage, repo)
    assert proposal.producer == "fixer:dbt_ref" and proposal.files == ["models/marts/fct_orders.sql"]
    assert "-    select * from {{ ref('stg_order') }}\n+    select * from {{ ref('stg_orders') }}\n" in proposal.diff
    assert diff_stats(proposal.diff) == (1, 1, 1, 1)  # the Jinja comment and ref('stg_customers') stay


def test_sql_rename_is_whole_word_case_preserving_and_code_only():
    sql = (
        "-- cust_id was renamed\nselect cust_id, CUST_ID, \"cust_id\", o.cust_id, cust_idx, 'cust_id' as label\n"
        "/* cust_id */ from {{ ref('cust_id') }} o group by Cust_Id\n"
    )
    new, count = sql_rename(sql, "cust_id", "customer_id")
    assert count == 5
    assert new == (
        "-- cust_id was renamed\nselect customer_id, CUSTOMER_ID, \"customer_id\", o.customer_id, cust_idx, 'cust_id' as label\n"
        "/* cust_id */ from {{ ref('cust_id') }} o group by customer_id\n"
    )


def _requirements(text: str, where: str = "requirements.txt"):
    def prepare(repo):
        (repo / where).parent.mkdir(parents=True, exist_ok=True)
        (repo / where).write_text(text)

    return prepare


def test_missing_package_added_unpinned_when_unknown(tmp_path):
    evidence, triage, repo = analyse("py_missing_dependency", tmp_path, _requirements("pandas==2.2.2\n"))
    proposal = propose_patch(evidence, triage, repo)
    assert proposal.producer == "fixer:missing_package" and proposal.files == ["requirements.txt"]
    assert proposal.diff.endswith(" pandas==2.2.2\n+gspread\n") and "unpinned" in proposal.rationale
    assert diff_stats(proposal.diff) == (1, 1, 1, 0)


def test_missing_package_goes_to_the_requirements_nearest_the_culprit(tmp_path):
    def prepare(repo):
        _requirements("requests\n")(repo)
        _requirements("pandas", "publish/requirements.txt")(repo)  # no final newline

    evidence, triage, repo = analyse("py_missing_dependency", tmp_path, prepare)
    proposal = propose_patch(evidence, triage, repo)
    assert proposal.files == ["publish/requirements.txt"]
    assert "-pandas\n\\ No newline at end of file\n+pandas\n+gspread\n" in proposal.diff


def test_dotted_import_maps_to_its_distribution(tmp_path):
    evidence, triage, repo = analyse("af3_snowflake_not_installed", tmp_path, _requirements("apache-airflow\n"))
    proposal = propose_patch(evidence, triage, repo)
    assert proposal.diff.endswith("+snowflake-connector-python\n")


@pytest.mark.parametrize(
    "prepare",
    [
        _requirements("gspread>=5\n"),  # already required: the environment is wrong, not the repository
        None,  # no requirements file at all
    ],
)
def test_missing_package_no_patch(tmp_path, prepare):
    evidence, triage, repo = analyse("py_missing_dependency", tmp_path, prepare)
    assert propose_patch(evidence, triage, repo) is None


def test_missing_package_never_for_a_module_of_the_repository(tmp_path):
    evidence, triage, repo = analyse("py_missing_dependency", tmp_path, _requirements("pandas\n"))
    (repo / "lib" / "gspread").mkdir(parents=True)
    assert missing_package(evidence, triage, repo) is None


def test_distribution_names():
    assert distribution_for("sklearn.linear_model") == "scikit-learn"
    assert distribution_for("bs4") == "beautifulsoup4"
    assert distribution_for("google.cloud.bigquery") is None  # a namespace: several distributions


def test_installed_distribution_is_pinned(tmp_path):
    def prepare(repo):
        _requirements("pandas\n")(repo)
        (repo / "publish" / "to_sheets.py").write_text(
            (repo / "publish" / "to_sheets.py").read_text().replace("gspread", "yaml")
        )

    evidence, triage, repo = analyse("py_missing_dependency", tmp_path, prepare)
    triage = triage.model_copy(update={"error": triage.error.model_copy(update={"message": "No module named 'yaml'"})})
    proposal = propose_patch(evidence, triage, repo)
    assert proposal.diff.endswith(f"+PyYAML=={metadata.version('PyYAML')}\n")
