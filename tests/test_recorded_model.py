"""benchmarks/recorded_model.py, the model of the read stage's figure: a prompt it has no answer
for is saved and stays `unknown`; once an answer is written for its key, the stage gets it back
through its real OpenAI backend."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from patchit_provider.engine.llm.budget import Budget
from patchit_provider.engine.llm.factory import build_backend
from patchit_provider.engine.llm.reading import ModelReader
from patchit_provider.engine.triage import triage
from patchit_testing import evidence_text, local_http_server

_SPEC = importlib.util.spec_from_file_location(
    "recorded_model", Path(__file__).resolve().parents[1] / "benchmarks" / "recorded_model.py"
)
recorded_model = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(recorded_model)

LOG = """\
Traceback (most recent call last):
  File "newWork.py", line 108, in <module>
    nc = Dataset("parameter.nc", "a")
RuntimeError: NetCDF: HDF error
"""


def _read(answers: dict[str, str], prompts: Path, asked: dict[str, int]):
    with local_http_server(recorded_model.handler(answers, prompts, asked)) as host:
        backend = build_backend(
            "openai", base_url=f"http://{host}/v1", api_key="local", model="recorded", timeout=10, max_retries=0
        )
        evidence = evidence_text(LOG)
        return ModelReader(backend, lambda: Budget(max_tokens=20_000))(evidence, triage(evidence))


def test_an_unanswered_prompt_is_saved_then_its_written_answer_is_replayed(tmp_path):
    asked = {"answered": 0, "unanswered": 0}
    assert _read({}, tmp_path, asked) is None  # no answer yet: the triage stays unknown
    saved = list(tmp_path.glob("*.txt"))
    assert len(saved) == 1 and "UNTRUSTED-BEGIN" in saved[0].read_text() and asked["unanswered"] == 1

    answer = {"category": "code.error", "remediation": "patch", "quote": "RuntimeError: NetCDF: HDF error", "why": "x"}
    answers_file = tmp_path / "answers.jsonl"
    answers_file.write_text(json.dumps({"key": saved[0].stem, "answer": json.dumps(answer)}) + "\n")
    read = _read(recorded_model.load_answers(answers_file), tmp_path, asked)
    assert read is not None and read.category.value == "code.error" and asked["answered"] == 1
