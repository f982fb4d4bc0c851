"""A short class name several libraries reuse: httpx's `WriteError` is a transport failure,
pymongo's a write the server rejected. A library-specific entry decides only its own classes."""

from __future__ import annotations

import pytest

from patchit_provider.engine.taxonomy import Category
from patchit_provider.engine.triage import resolve


@pytest.mark.parametrize(
    "type_name",
    [
        "httpx.WriteError",
        "httpcore.WriteError",
        "WriteError",
        "urllib3.exceptions.MaxRetryError",
        "requests.packages.urllib3.exceptions.MaxRetryError",
        "snowflake.connector.vendored.urllib3.exceptions.MaxRetryError",
    ],
)
def test_the_owning_library_s_class_and_an_unqualified_name_keep_the_verdict(type_name):
    found = resolve.class_fact(type_name) or resolve.weak_facts(type_name, "")
    assert found is not None and found.verdict.category == Category.INFRA_NETWORK


@pytest.mark.parametrize("type_name", ["pymongo.errors.WriteError", "elasticsearch.exceptions.TransportError"])
def test_another_library_s_class_of_the_same_name_is_not_claimed(type_name):
    assert resolve.class_fact(type_name) is None
    assert resolve.weak_facts(type_name, "") is None
