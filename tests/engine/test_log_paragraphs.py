"""Messages wrapped over several lines (logs/paragraphs.py): read again as one message when no
single line of the log is recognized."""

from __future__ import annotations

from patchit_provider.engine.logs.paragraphs import paragraphs
from patchit_testing import triage_text

# The bq CLI prints a job's error through textwrap at 80 columns: the reason's words fall on
# the second and third lines (github.com/googleapis/java-cloud-bom/pull/6344, the job's output).
BQ_WRAPPED = """\
+ bq load --autodetect --project_id=cloud-java-metrics --source_format=CSV client_library_versions.cloud_java_client_library_release_dates cloud_java_client_library_release_dates.csv
Upload complete.

BigQuery error in load operation: Error processing job
'cloud-java-metrics:bqjob_r28424c53fa9642fd_0000018b47445529_1': Provided Schema
does not match Table cloud-java-metrics:client_library_versions.cloud_java_clien
t_library_release_dates. Cannot add fields (field: string_field_0)
Failure details:
- It looks like you are appending to an existing table with
autodetect enabled. Disabling autodetect may resolve this.
"""


def test_a_wrapped_message_is_one_paragraph_latest_first():
    found = paragraphs(BQ_WRAPPED)
    assert found[0].startswith("BigQuery error in load operation: Error processing job 'cloud-java-metrics:bqjob_")
    assert "Provided Schema does not match Table" in found[0]
    assert "Cannot add fields (field: string_field_0)" in found[0]


def test_records_of_different_loggers_are_not_joined():
    log = (
        "[2024-05-01, 10:00:00 UTC] {subprocess.py:93} INFO - BigQuery error in load operation: Error processing job\n"
        "[2024-05-01, 10:00:00 UTC] {subprocess.py:93} INFO - 'p:job_1': Provided Schema does not match Table p:d.t.\n"
        "[2024-05-01, 10:00:01 UTC] {taskinstance.py:1400} ERROR - Task failed with exception\n"
        "[2024-05-01, 10:00:01 UTC] {local_task_job.py:154} INFO - Task exited with return code 1\n"
    )
    assert paragraphs(log) == [
        "BigQuery error in load operation: Error processing job 'p:job_1': Provided Schema does not match Table p:d.t."
    ]


def test_a_single_line_or_an_overlong_run_is_no_paragraph():
    assert paragraphs("one line\n\nanother line\n") == []
    assert paragraphs("\n".join(f"row {i}" for i in range(40))) == []


def test_triage_reads_the_reason_of_a_wrapped_bq_error():
    result = triage_text(BQ_WRAPPED)
    assert result.category.value == "code.error" and result.remediation.value == "patch"
    assert "schema" in result.rationale.lower()


def test_the_first_line_of_a_log_that_says_nothing_stays_unknown():
    # joining lines must not invent a cause: ordinary progress lines read as nothing
    result = triage_text("Starting job\nreading input\nwrote 10 rows\n\nDone with errors\n")
    assert result.category.value == "unknown"
