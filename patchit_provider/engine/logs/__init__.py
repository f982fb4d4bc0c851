"""Streaming log readers that need no hint about the format (see reader.read_log)."""

from patchit_provider.engine.logs.pytb import ChainedError, parse_chain
from patchit_provider.engine.logs.reader import LogDigest, is_wrapper, read_log

__all__ = ["ChainedError", "LogDigest", "is_wrapper", "parse_chain", "read_log"]
