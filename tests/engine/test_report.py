"""RCA report: complete, escaped, fenced so that untrusted log text cannot break out."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import git
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from patchit_provider.engine.evidence import collect_evidence
from patchit_provider.engine.models import FailureEvent, Incident
from patchit_provider.engine.report import md_code, md_escape, md_fence, render_rca
from patchit_provider.engine.settings import PatchitSettings
from patchit_provider.engine.triage import triage

FIXTURES = Path(__file__).parent / "fixtures" / "logs"
_MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def incident_for(log_text: str, repo: Path | None = None) -> Incident:
    event = FailureEvent(
        pipeline_id="orders",
        run_id="manual__2025-06-01T10:00:00+00:00",
        task_id="transform",
        try_number=1,
        log_text=log_text,
    )
    evidence = collect_evidence(event, repo, PatchitSettings())
    return Incident(incident_id="inc-1", event=event, evidence=evidence, triage=triage(evidence))


def test_report_sections_and_json(tmp_path):
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    (repo / "scripts" / "ingest.py").write_text((FIXTURES / "repo_orders" / "scripts" / "ingest.py").read_text())
    r = git.Repo.init(repo)
    r.index.add(["scripts/ingest.py"])
    r.index.commit("ingest orders")
    md, data = render_rca(incident_for((FIXTURES / "airflow2_bash_filenotfound.log").read_text(), repo))
    for heading in (
        "## What failed",
        "## Category",
        "## Next step",
        "## Evidence",
        "## Code",
        "## Recent changes",
        "## Log excerpt",
    ):
        assert heading in md
    assert "upstream.failed" in md and "scripts/ingest.py:5" in md.replace("\\", "")
    assert "ingest orders" in md
    assert data["triage"]["category"] == "upstream.failed"
    assert data["triage"]["culprit"] == {"path": "scripts/ingest.py", "line": 5}
    json.dumps(data)


def test_untrusted_text_cannot_break_markdown():
    hostile = (
        "Traceback (most recent call last):\n"
        '  File "/x/a.py", line 1, in f\n'
        "ValueError: invalid literal for int() with base 10: '```` <script>alert(1)</script> [x](javascript:y) # h'\n"
        "`````\n# injected heading\n"
    )
    md, _ = render_rca(incident_for(hostile))
    outside = outside_fences(md)
    assert "<script>" not in outside and "\\[x](javascript" in outside  # the bracket escaped: no link
    assert not re.search(r"^\s*#+ injected", outside, re.M)  # escaped inline, never a heading
    assert "<script>" in md  # kept, but only inside a code block
    rendered = _MD.render(md)
    assert "<a " not in rendered and "<script" not in rendered and "injected</h" not in rendered


def outside_fences(md: str) -> str:
    """The Markdown text outside fenced blocks, following CommonMark's closing rule (a fence of
    at least the opening length, made only of backticks)."""
    kept, fence = [], None
    for line in md.splitlines():
        if fence is None:
            match = re.match(r"^(`{3,})", line)
            if match:
                fence = match.group(1)
                continue
            kept.append(line)
        elif re.fullmatch(r"`{%d,}\s*" % len(fence), line):
            fence = None
    assert fence is None, "a fence was left open"
    return "\n".join(kept)


def test_secrets_never_reach_the_report():
    text = (
        'Traceback (most recent call last):\n  File "/x/a.py", line 1, in f\nValueError: could not connect to postgresql://u:Pa55word99@db/x with token=ghp_'
        + "a1B2c3D4" * 5
        + "\n"
    )
    md, data = render_rca(incident_for(text))
    assert "Pa55word99" not in md and "Pa55word99" not in json.dumps(data)
    assert "ghp_a1B2" not in md


def test_untriaged_incident():
    event = FailureEvent(pipeline_id="orders", run_id="r1")
    md, data = render_rca(Incident(incident_id="i", event=event))
    assert "Not triaged yet" in md and data["triage"] is None


def test_helpers():
    assert md_fence("a ``` b").startswith("````text\n")
    assert md_fence("plain").startswith("```text\n")
    assert md_escape("*bold* <b> [l](u)\nnext") == "\\*bold\\* &lt;b> \\[l](u) next"
    # no backslash where Markdown needs none: ids, dates, versions read as they are
    assert (
        md_escape("orders_etl failed on 2026-12-02 (pandas 3.1.1)") == "orders_etl failed on 2026-12-02 (pandas 3.1.1)"
    )
    assert md_escape("# not a heading") == "\\# not a heading" and md_escape("1. not a list") == "1\\. not a list"
    assert md_escape("__init__ &lt;") == "\\_\\_init\\_\\_ &amp;lt;"
    assert md_code("orders_etl") == "`orders_etl`" and md_code("a `b`") == "`` a `b` ``"


# Text a person could not tell from Markdown: every character class md_escape handles, in runs.
_TRICKY = st.lists(
    st.sampled_from(list("ab_1 *`\\[]()<>&#;!|~$-+=.:/\"'\n\t") + ["&lt;", "&#60;", "&amp;", "<b>", "http://x"]),
    max_size=30,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(_TRICKY)
def test_escaped_prose_renders_as_the_text_itself(text):
    """What md_escape returns, rendered by a CommonMark renderer (with tables and
    strikethrough, as GitHub), is the text itself: no markup, no lost or extra backslash."""
    from patchit_provider.engine.redaction import redact

    expected = " ".join(redact(text)[0].split())
    for line in (md_escape(text), f"- **Why:** {md_escape(text)}"):
        rendered = _MD.render(line)
        shown = html.unescape(re.sub(r"<[^>]+>", "", rendered)).strip()
        if line.startswith("- **Why:** "):
            shown = shown.removeprefix("Why:").strip()
        assert shown == expected, (text, line, rendered)
        assert re.sub(r"</?(?:p|ul|li|strong)>", "", rendered).count("<") == 0, rendered


def test_report_shows_blame_dbt_nodes_peeks_and_packages(tmp_path):
    from patchit_provider.engine.models import BlameLine, InputPeek

    dbt = Path(__file__).parent / "fixtures" / "dbt"
    event = FailureEvent(
        pipeline_id="shop",
        run_id="r1",
        task_id="dbt_run",
        artifact_uris=[str(dbt / "run_results.json"), str(dbt / "manifest.json")],
    )
    evidence = collect_evidence(event, dbt, PatchitSettings())
    assert evidence.dbt_nodes and evidence.dbt_nodes[0].path == "models/marts/fct_orders.sql"
    evidence = evidence.model_copy(
        update={
            "blame": [
                BlameLine(
                    line=11,
                    commit="abcdef123456",
                    author="Ana",
                    date="2025-05-30T09:00:00+00:00",
                    summary="add segment to fct_orders",
                    code="    customers.segment,",
                )
            ],
            "input_peeks": [
                InputPeek(
                    path="data/orders.csv",
                    kind="csv",
                    header=["order_id,amount"],
                    columns=["order_id", "amount"],
                    size=12,
                )
            ],
            "packages": {"pandas": "2.2.3"},
        }
    )
    incident = Incident(incident_id="inc-2", event=event, evidence=evidence, triage=triage(evidence))
    md, data = render_rca(incident)
    for heading in (
        "## Recent changes",
        "Lines involved (git blame)",
        "## dbt node `model.shop.fct_orders`",
        "Compiled SQL",
        "## Input files (header only)",
        "## Packages involved",
    ):
        assert heading in md, heading
    assert "add segment to fct_orders" in md and "Ana" in md and "2025-05-30" in md
    assert "```sql\n" in md and "customers.segment" in md and "`model.shop.stg_customers`" in md
    assert "where PATCHIT runs" in md and "`pandas` 2.2.3" in md
    assert data["dbt_nodes"][0]["depends_on"] == ["model.shop.stg_orders", "model.shop.stg_customers"]
    assert data["blame"][0]["author"] == "Ana" and data["packages"] == {"pandas": "2.2.3"}
    assert data["input_peeks"][0]["columns"] == ["order_id", "amount"]
    json.dumps(data)
