"""A model whose answers were written down: an OpenAI-compatible server on 127.0.0.1 that answers
each Chat Completions request from a file of recorded answers, and writes every request it has no
answer for to a folder, so a reader can answer it later.

Why: no model vendor is reachable from this machine, yet the `read` stage's figure needs a model's
answers to the stage's exact prompts. The measurement runs twice through the real OpenAI backend
(HTTP, parsing, the quote check, the refusals):
  1. record: `triage_accuracy.py --external --model-reading` against this server; every prompt of
     an `unknown` case lands in --prompts-out as <key>.txt, and is answered "unknown" meanwhile;
  2. a reader that sees only those files writes one JSON line per prompt,
     {"key": "<key>", "answer": "<the model's reply, verbatim>"}, into --answers;
  3. replay: the same run again; each prompt now gets its recorded answer.
The key is the sha256 of the system and user messages, so a prompt that changes is asked anew.

    python benchmarks/recorded_model.py --answers A.jsonl --prompts-out DIR --port 8765 &
    PATCHIT_LLM_KIND=openai PATCHIT_LLM_URL=http://127.0.0.1:8765/v1 PATCHIT_LLM_MODEL=recorded \\
    PATCHIT_LLM_API_KEY=local python benchmarks/triage_accuracy.py --external --model-reading
"""

from __future__ import annotations

import argparse
import hashlib
import http.server
import json
import sys
from pathlib import Path

UNANSWERED = json.dumps({"category": "unknown", "remediation": "escalate", "quote": "", "why": "not answered yet"})


def prompt_key(messages: list[dict]) -> str:
    text = "\n\n".join(f"[{m.get('role')}]\n{m.get('content')}" for m in messages)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def load_answers(path: Path | None) -> dict[str, str]:
    if path is None or not path.exists():
        return {}
    answers = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if not isinstance(row, dict) or not isinstance(row.get("key"), str) or not isinstance(row.get("answer"), str):
            raise SystemExit(f"{path}:{number}: each line must be {{'key': str, 'answer': str}}")
        answers[row["key"]] = row["answer"]
    return answers


def handler(answers: dict[str, str], prompts_out: Path | None, asked: dict[str, int]):
    class Recorded(http.server.BaseHTTPRequestHandler):
        """POST /v1/chat/completions as OpenAI documents it; anything else is a 404."""

        def do_POST(self):  # noqa: N802 (http.server API)
            if self.path.rstrip("/") != "/v1/chat/completions":
                self.send_error(404, "only /v1/chat/completions")
                return
            try:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                messages = body["messages"]
            except (ValueError, KeyError, TypeError) as exc:
                self.send_error(400, f"not a chat/completions request: {exc}")
                return
            key = prompt_key(messages)
            answer = answers.get(key)
            asked["answered" if answer is not None else "unanswered"] += 1
            if answer is None and prompts_out is not None:
                text = "\n\n".join(f"=== {m.get('role')} ===\n{m.get('content')}" for m in messages)
                (prompts_out / f"{key}.txt").write_text(text)
            payload = {
                "id": f"chatcmpl-{key}",
                "object": "chat.completion",
                "created": 1_764_000_000,
                "model": body.get("model", "recorded"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": answer if answer is not None else UNANSWERED},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            }
            data = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    return Recorded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--answers", type=Path, help="JSON lines {key, answer}")
    parser.add_argument("--prompts-out", type=Path, help="folder for the prompts without an answer")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    if args.prompts_out is not None:
        args.prompts_out.mkdir(parents=True, exist_ok=True)
    asked = {"answered": 0, "unanswered": 0}
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", args.port), handler(load_answers(args.answers), args.prompts_out, asked)
    )
    print(f"recorded model on http://127.0.0.1:{args.port}/v1", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        print(f"answered {asked['answered']}, unanswered {asked['unanswered']}", file=sys.stderr)


if __name__ == "__main__":
    main()
