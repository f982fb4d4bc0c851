"""Provider metadata for Airflow's ProvidersManager (entry point `apache_airflow_provider`).

The `config` section is generated from PatchitSettings and each connection type's form comes
from its hook module, so every default and field has one source. Those hook modules are imported
only when Airflow asks (it has imported airflow.sdk by then).
"""

from __future__ import annotations

from typing import Any

from patchit_provider.engine.settings import config_section

PACKAGE_NAME = "airflow-provider-patchit"  # must equal the canonical distribution name


def connection_types() -> list[dict[str, Any]]:
    """The connection forms of PATCHIT's own connection types (React UI: conn-fields)."""
    from patchit_provider.hooks.github import provider_connection_type as github
    from patchit_provider.hooks.llm import provider_connection_type as llm

    return [llm(), github()]


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": PACKAGE_NAME,
        "name": "PATCHIT",
        "description": "Turns Airflow task failures into evidence, a root-cause analysis and a validated patch.",
        "integrations": [
            {
                "integration-name": "PATCHIT",
                "external-doc-url": "https://github.com/patchit/airflow-provider-patchit",
                "tags": ["software"],
            }
        ],
        "hooks": [
            {
                "integration-name": "PATCHIT",
                "python-modules": [
                    "patchit_provider.hooks.store",
                    "patchit_provider.hooks.api",
                    "patchit_provider.hooks.llm",
                    "patchit_provider.hooks.github",
                ],
            }
        ],
        "connection-types": connection_types(),
        "operators": [
            {"integration-name": "PATCHIT", "python-modules": ["patchit_provider.operators.remediation"]}
        ],
        "notifications": ["patchit_provider.notifications.patchit.PatchitNotifier"],
        "plugins": [{"name": "patchit", "plugin-class": "patchit_provider.plugins.patchit.PatchitPlugin"}],
        "config": config_section(),
    }
