"""Issue 9's fixers for the corpus cases no fixer repaired: each on the real failure (the case's own
log, produced by running the code), the exact proposal, and the near misses that get none.

The re-run of each case's entry point on the validated patch is tests/engine/test_fixers_corpus.py.
"""

from __future__ import annotations

import textwrap

from patchit_provider.engine.patching import propose_patches
from patchit_provider.engine.patching.unused_name import unused_local_candidate, words

from .test_fixers_evidence import analyse


def _diffs(name: str, tmp_path) -> dict[str, str]:
    evidence, triage, repo = analyse(name, tmp_path)
    return {p.producer: p.diff for p in propose_patches(evidence, triage, repo)}


def test_name_error_gets_the_hint_and_the_unused_local_as_candidates(tmp_path):
    # NameError: name 'discount_rate' is not defined. Did you mean: 'discount_rates'?  (a dict)
    diffs = _diffs("py_pricing_name_error", tmp_path)
    assert list(diffs) == ["fixer:did_you_mean", "fixer:unused_local"]
    assert "+    return round(price * (1 - rate), 2)\n" in diffs["fixer:unused_local"]
    assert "+    return round(price * (1 - discount_rates), 2)\n" in diffs["fixer:did_you_mean"]


def test_unused_local_only_when_exactly_one_shares_a_word():
    source = textwrap.dedent(
        """\
        def f(tier):
            rate = 1
            base_rate = 2
            return discount_rate
        """
    )
    assert unused_local_candidate(source, 4, "discount_rate") is None  # two candidates
    assert unused_local_candidate(source.replace("    base_rate = 2\n", ""), 3, "discount_rate") == "rate"
    used = "def f(tier):\n    rate = 1\n    print(rate)\n    return discount_rate\n"
    assert unused_local_candidate(used, 4, "discount_rate") is None  # read elsewhere: not the lost value
    assert words("targetSchema") == words("target_schema") == {"target", "schema"}


def test_arity_type_error_drops_the_surplus_literal(tmp_path):
    # TypeError: build_path() takes 3 positional arguments but 4 were given
    diffs = _diffs("py_export_type_error", tmp_path)
    assert list(diffs) == ["fixer:surplus_literal_arguments"]
    diff = diffs["fixer:surplus_literal_arguments"]
    assert '-    print(build_path(BUCKET, table, "2024-05-01", "csv"))\n' in diff
    assert '+    print(build_path(BUCKET, table, "2024-05-01"))\n' in diff


def test_arity_type_error_with_a_computed_surplus_gets_no_patch(tmp_path):
    def computed(repo):
        job = repo / "export_job.py"
        job.write_text(job.read_text().replace('"csv"', "table.upper()"))

    evidence, triage, repo = analyse("py_export_type_error", tmp_path, computed)
    assert propose_patches(evidence, triage, repo) == []


def test_spark_udf_on_a_null_becomes_null_aware(tmp_path):
    # AttributeError: 'NoneType' object has no attribute 'strip', from the Python worker
    diffs = _diffs("spark_udf_error", tmp_path)
    assert list(diffs) == ["fixer:udf_null_guard"]
    assert (
        " def normalize(value):\n-    return value.strip().lower()\n+    if value is not None:\n+        return value.strip().lower()\n"
        in diffs["fixer:udf_null_guard"]
    )


def test_a_plain_function_failing_on_none_is_not_guarded(tmp_path):
    def plain(repo):
        job = repo / "jobs" / "clean_emails.py"
        job.write_text(job.read_text().replace("@F.udf(returnType=StringType())\n", ""))

    evidence, triage, repo = analyse("spark_udf_error", tmp_path, plain)
    assert propose_patches(evidence, triage, repo) == []


def test_undefined_template_variable_uses_the_unread_render_keyword(tmp_path):
    # jinja2.exceptions.UndefinedError: 'params' is undefined; render(ds=..., target_schema=...)
    diffs = _diffs("py_sql_template_undefined", tmp_path)
    assert list(diffs) == ["fixer:unused_template_argument"]
    assert (
        "-FROM {{ params.schema }}.orders\n+FROM {{ target_schema }}.orders\n"
        in diffs["fixer:unused_template_argument"]
    )


def test_undefined_template_variable_without_a_unique_unread_keyword_gets_no_patch(tmp_path):
    def two_keywords(repo):
        render = repo / "render_sql.py"
        render.write_text(render.read_text().replace('target_schema="analytics"', 'target_schema="a", schema_name="b"'))

    evidence, triage, repo = analyse("py_sql_template_undefined", tmp_path, two_keywords)
    assert propose_patches(evidence, triage, repo) == []


def test_group_without_by_gets_by(tmp_path):
    # dbt-duckdb: Parser Error: syntax error at or near "customer_id" / LINE 15: group customer_id
    diffs = _diffs("dbt_sql_syntax_error", tmp_path)
    assert list(diffs) == ["fixer:sql_missing_by"]
    assert "-group customer_id\n+group by customer_id\n" in diffs["fixer:sql_missing_by"]


def test_a_syntax_error_elsewhere_gets_no_by(tmp_path):
    def other(repo):
        model = repo / "models" / "marts" / "customer_ltv.sql"
        model.write_text(model.read_text().replace("group customer_id", "group by customer_id\nhaving customer_id"))

    evidence, triage, repo = analyse("dbt_sql_syntax_error", tmp_path, other)
    assert all(p.producer != "fixer:sql_missing_by" for p in propose_patches(evidence, triage, repo))
