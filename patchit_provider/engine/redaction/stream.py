"""A text stream that redacts whole lines before they reach the real one: the CLI's stdout and
stderr, so no output path (a summary, a diff, a check's output, the final exception) can skip
redaction. Lines are buffered until their newline, so `print(a, b)` is redacted as one line."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Any, Iterator, TextIO


class RedactingStream:
    def __init__(self, target: TextIO) -> None:
        self._target = target
        self._pending = ""

    def write(self, text: str) -> int:
        from patchit_provider.engine.redaction import redact

        self._pending += text
        if "\n" in self._pending:
            done, _, self._pending = self._pending.rpartition("\n")
            self._target.write(redact(done + "\n")[0])
        return len(text)

    def flush(self) -> None:
        from patchit_provider.engine.redaction import redact

        if self._pending:
            self._target.write(redact(self._pending)[0])
            self._pending = ""
        self._target.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)


@contextmanager
def redacted_output() -> Iterator[None]:
    """Redact everything written to stdout and stderr inside the block."""
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = RedactingStream(out), RedactingStream(err)
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            if isinstance(stream, RedactingStream):
                stream.flush()
        sys.stdout, sys.stderr = out, err
