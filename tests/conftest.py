"""Fixtures every test folder can use."""

from patchit_testing import pipeline_repo  # noqa: F401  (a pytest fixture)
