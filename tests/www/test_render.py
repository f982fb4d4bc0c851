"""The incident page as a person reads it: the RCA rendered from Markdown and sanitized (hostile
Markdown gets nothing through), one traceback with the repository's frames shown and the rest
folded, ids that do not wrap, and a manual re-analysis marked as such in the timeline."""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from www_factories import add_incident

from patchit_provider.engine.models import (
    AuditEvent,
    AuditKind,
    Evidence,
    Frame,
    Incident,
    Requester,
)
from patchit_provider.engine.report import render_rca
from patchit_provider.engine.taxonomy import Category
from patchit_provider.www.render import RCA_TAGS, markdown, traceback_blocks, without_traceback

sys.path.insert(0, str(Path(__file__).parents[1] / "engine"))
from test_report import FIXTURES, incident_for  # noqa: E402

# Each a way model output or a log line could try to run script, load something or escape.
HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    "<svg onload=alert(1)>",
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](java\tscript:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](javascript&#58;alert(1))",
    "[click](%6Aavascript:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox(1))",
    "[ref]\n\n[ref]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "![x](https://evil.example/track.png)",
    '![x](https://evil.example/p.png "t")',
    "[![x](https://evil.example/i.png)](https://evil.example/)",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;script&#62;alert(1)&#60;/script&#62;",
    "<iframe src=https://evil.example></iframe>",
    "<style>body{display:none}</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<form action=https://evil.example><button>go</button></form>",
    "<meta http-equiv=refresh content='0;url=https://evil.example'>",
    "<object data=x.swf></object><embed src=x.swf>",
    "**bold <b onclick=alert(1)>x</b>**",
    "> quote <img src=x onerror=alert(1)>\n> more",
    "- item [x](javascript:alert(1))\n  - nested <script>alert(1)</script>",
    "```html\n<script>alert(1)</script>\n```",
    "`<script>alert(1)</script>`",
    "<details open ontoggle=alert(1)>",
    '<a href="https://ok.example" onmouseover="alert(1)">ok</a>',
    "<!-- <script>alert(1)</script> -->",
    "<math><mi xlink:href=javascript:alert(1)>x</mi></math>",
    "| a | b |\n|---|---|\n| <script>alert(1)</script> | [x](javascript:alert(1)) |",
    "<<script>script>alert(1)<</script>/script>",
    "\\<script>alert(1)\\</script>",
    '[x](https://ok.example "<script>alert(1)</script>")',
    "<base href=https://evil.example/>",
]


class _Elements(HTMLParser):
    """Every element and attribute a browser would build from the HTML (text stays text)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, attrs))


def dangerous(html: str) -> list[str]:
    """What a browser would run, load or restyle: a tag outside the RCA's Markdown set, any
    attribute but a link's href and rel, a link to anything but http(s)/mailto, a link that
    does not open with rel="noopener noreferrer nofollow"."""
    parser = _Elements()
    parser.feed(html)
    bad = []
    for tag, attrs in parser.found:
        if tag not in RCA_TAGS:
            bad.append(f"<{tag}>")
        names = dict(attrs)
        bad += [f"{tag}[{name}]" for name in names if not (tag == "a" and name in ("href", "rel"))]
        if tag == "a":
            href = (names.get("href") or "").strip().lower()
            if href and not href.startswith(("https://", "http://", "mailto:")):
                bad.append(f"a[href={href}]")
            if names.get("rel") != "noopener noreferrer nofollow":
                bad.append(f"a[rel={names.get('rel')}]")
    return bad


def test_hostile_markdown_gets_nothing_through():
    through = [(text, hit) for text in HOSTILE for hit in dangerous(str(markdown(text)))]
    print(f"\n[render] {len(HOSTILE)} hostile Markdown inputs, {len(through)} dangerous constructs through")
    assert through == []
    # the checker itself sees what it must refuse
    assert dangerous('<img src=x onerror=alert(1)><a href="javascript:x">') == [
        "<img>",
        "img[src]",
        "img[onerror]",
        "a[href=javascript:x]",
        "a[rel=None]",
    ]


def test_links_open_safely_and_text_is_kept():
    html = str(markdown("See [the run](https://airflow.example/dags/x) and <script>alert(1)</script>"))
    assert '<a href="https://airflow.example/dags/x" rel="noopener noreferrer nofollow">the run</a>' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # shown as text, never run
    assert "<img" not in str(markdown("![pixel](https://evil.example/p.png)"))


def test_rca_renders_headings_lists_and_no_backslash_escapes():
    incident = incident_for((FIXTURES / "airflow3_keyerror.log").read_text())
    incident.event = incident.event.model_copy(update={"pipeline_id": "orders_etl", "run_id": "manual__2026-12-02"})
    md, _ = render_rca(incident)
    html = str(markdown(md, omit=("Log excerpt",)))
    assert re.search(r"<h3>Root-cause analysis: <code>orders_etl.transform</code></h3>", html)
    assert "<h4>What failed</h4>" in html and "<h4>Next step</h4>" in html
    assert html.count("<li>") >= 8
    text = re.sub(r"<[^>]+>", "", html)
    assert "\\" not in text, [line for line in text.splitlines() if "\\" in line]
    assert "orders_etl" in text and "manual__2026-12-02" in text and "2025-06-01" in text
    assert "Log excerpt" not in html and "Traceback (most recent call last)" not in html  # shown under Evidence


def test_traceback_blocks_mark_repository_frames_and_fold_the_rest():
    incident = incident_for((FIXTURES / "airflow3_keyerror.log").read_text())
    blocks = traceback_blocks(incident.evidence.error.traceback, incident.evidence)
    kinds = [(b["kind"], b["frames"]) for b in blocks]
    # cause: two frames of transform.py; then six Airflow frames folded; then transform.py:17
    assert kinds == [("text", 0), ("own", 2), ("text", 0), ("lib", 6), ("own", 1), ("text", 0)]
    assert all("site-packages" in line for line in blocks[3]["lines"])
    # With a repository, only frames in files the evidence mapped into it are the repository's.
    evidence = Evidence(event_id="e", mapped_frames=[Frame(path="dags/orders/transform.py", line=17)])
    mapped = traceback_blocks(incident.evidence.error.traceback, evidence)
    assert [b["kind"] for b in mapped if b["frames"]] == ["own", "lib", "own"]
    other = Evidence(event_id="e", mapped_frames=[Frame(path="etl/other.py", line=1)])
    folded = [b for b in traceback_blocks(incident.evidence.error.traceback, other) if b["frames"]]
    assert [(b["kind"], b["frames"]) for b in folded] == [("lib", 2), ("lib", 7)]  # one per exception of the chain


def test_log_excerpt_leaves_out_the_traceback_shown_above():
    incident = incident_for((FIXTURES / "airflow3_keyerror.log").read_text())
    lines = without_traceback(incident.evidence.log_excerpt, incident.evidence.error.traceback)
    assert lines.count(None) == 1
    assert not any(line and "File " in line for line in lines)
    assert any(line and "processed batch 5" in line for line in lines)


def _typo_incident(store):
    """A code error with the demo's traceback shape and an RCA from the engine's generator."""
    trace = (FIXTURES / "airflow3_keyerror.log").read_text()
    made = incident_for(trace)
    incident = add_incident(store, "sales_daily", category=Category.CODE_ERROR, log_text=trace)
    incident = store.get_incident(incident.incident_id)
    incident.evidence = made.evidence.model_copy(update={"event_id": incident.event.event_id})
    incident.event = incident.event.model_copy(update={"error": made.evidence.error})
    store.save_incident(incident)
    md, _ = render_rca(Incident.model_validate({**incident.model_dump(), "triage": made.triage}))
    from patchit_provider.engine.models import Artifact

    store.put_artifact(
        Artifact(incident_id=incident.incident_id, name="rca.md", content=md, media_type="text/markdown")
    )
    return incident


def test_incident_page_shows_one_traceback_and_the_rca_as_html(client, headers_for, store):
    incident = _typo_incident(store)
    page = client.get(f"/incidents/{incident.incident_id}", headers=headers_for("admin")).text
    assert page.count('class="traceback"') == 1
    assert page.count("Traceback (most recent call last):") == 2  # the chain's two blocks, once each
    assert page.count("ValueError: enrich failed for batch 2025-06-01\n") == 0
    assert page.count(">ValueError: enrich failed for batch 2025-06-01</div>") == 1
    assert '<details class="tb-lib"><summary>6 frames in libraries and Airflow</summary>' in page
    assert page.count('<div class="tb-own">') == 2
    rca = page.split('<section id="rca">')[1].split("</section>")[0]
    assert "<h4>What failed</h4>" in rca and "<li>" in rca and "<pre>" not in rca.split("<h4>Evidence")[0]
    assert "\\_" not in rca and "\\-" not in rca
    assert f'<code class="id" title="{incident.incident_id}">' in page


def test_manual_reanalysis_is_marked_in_the_timeline(client, headers_for, store):
    from patchit_provider.engine.pipeline import Remediator
    from patchit_provider.engine.settings import PatchitSettings

    incident = add_incident(store, "sales_daily", category=Category.CODE_ERROR)
    incident = store.get_incident(incident.incident_id)
    incident.remediation_run_id = "patchit__first"
    store.save_incident(incident)
    remediator = Remediator(store, PatchitSettings())
    # The first run's receive task again (a retry): not a re-analysis.
    remediator.receive(incident.event, Requester(run_id="patchit__first", user="patchit_api"))
    assert AuditKind.REANALYSIS_REQUESTED not in [a.kind for a in store.audit_trail(incident.incident_id)]
    reason = "the upstream  export was   re-delivered <b>now</b>"
    again = remediator.receive(incident.event, Requester(run_id="manual__2026-12-02T08", user="alice", reason=reason))
    assert again.incident_id == incident.incident_id and again.remediation_run_id == "manual__2026-12-02T08"
    event = [a for a in store.audit_trail(incident.incident_id) if a.kind == AuditKind.REANALYSIS_REQUESTED]
    assert len(event) == 1 and event[0].actor == "alice"
    assert event[0].data == {
        "run_id": "manual__2026-12-02T08",
        "user": "alice",
        "reason": "the upstream export was re-delivered <b>now</b>",
    }
    store.append_audit(AuditEvent(incident_id=incident.incident_id, kind=AuditKind.EVIDENCE_SAVED, message="again"))
    page = client.get(f"/incidents/{incident.incident_id}", headers=headers_for("admin")).text
    item = page.split('<li class="reanalysis">')[1].split("</li>")[0]
    assert "re-analysis" in item and '<strong class="who">alice</strong>' in item
    assert "the upstream export was re-delivered &lt;b&gt;now&lt;/b&gt;" in item
    assert "manual__2026-12-02T08" in item
    # Without a reason, the page says so; an unknown user is named as unknown.
    remediator.receive(incident.event, Requester(run_id="manual__2026-12-02T09"))
    page = client.get(f"/incidents/{incident.incident_id}", headers=headers_for("admin")).text
    assert page.count('<li class="reanalysis">') == 2
    assert '<strong class="who">unknown</strong>' in page and "no reason given" in page


@pytest.mark.parametrize("text", ["orders_etl", "a`b", "`x`", "2026-12-02"])
def test_code_spans_show_ids_literally(text):
    from patchit_provider.engine.report import md_code

    html = str(markdown(f"id {md_code(text)}"))
    assert re.sub(r"<[^>]+>", "", html).strip() == f"id {text}".replace("`", "&#96;").replace("&#96;", "`")


def test_a_models_reading_shows_as_text_whatever_it_says(client, headers_for, store):
    """The reason a model gives for its reading (stage `read`) reaches the incident page only as
    text: markup and links in it are shown, never run or followed."""
    from patchit_testing import evidence_text

    from patchit_provider.engine.models import Artifact
    from patchit_provider.engine.taxonomy import Remediation
    from patchit_provider.engine.triage import triage
    from patchit_provider.engine.triage.model_reading import apply_reading

    quote = "RuntimeError: NetCDF: HDF error"
    evidence = evidence_text(quote + "\n")
    why = "<img src=x onerror=alert(1)> see [docs](javascript:alert(2)) <script>alert(3)</script>"
    read = apply_reading(
        triage(evidence),
        evidence,
        category=Category.INFRA_RESOURCE,
        remediation=Remediation.ESCALATE,
        quote=quote,
        why=why,
        model="openai/gpt-test",
    )
    incident = store.get_incident(add_incident(store, "sales_daily").incident_id)
    incident.triage = read
    store.save_incident(incident)
    md, _ = render_rca(incident)
    store.put_artifact(
        Artifact(incident_id=incident.incident_id, name="rca.md", content=md, media_type="text/markdown")
    )
    page = client.get(f"/incidents/{incident.incident_id}", headers=headers_for("admin")).text
    rca = page.split('<section id="rca">')[1].split("</section>")[0]
    assert "model reading (openai/gpt-test)" in rca and "onerror=alert(1)" in rca  # shown as text
    assert "<img" not in rca and "<script" not in rca and 'href="javascript:' not in rca
