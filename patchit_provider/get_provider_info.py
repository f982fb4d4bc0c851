"""Provider metadata for Airflow's ProvidersManager (entry point `apache_airflow_provider`).

Kept free of Airflow imports and of PATCHIT's hook modules: Airflow may call this while
`airflow.sdk` is still initializing (provider discovery during config load), so importing a hook
module here (which imports `airflow.sdk`) would be a circular import that breaks discovery for
every provider. The `config` section is generated from PatchitSettings (one source of defaults).
"""

from __future__ import annotations

from typing import Any

from patchit_provider.connection_forms import connection_types
from patchit_provider.engine.settings import config_section

PACKAGE_NAME = "airflow-provider-patchit"  # must equal the canonical distribution name


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
        "operators": [{"integration-name": "PATCHIT", "python-modules": ["patchit_provider.operators.remediation"]}],
        "connection-types": connection_types(),
        "notifications": ["patchit_provider.notifications.patchit.PatchitNotifier"],
        "plugins": [{"name": "patchit", "plugin-class": "patchit_provider.plugins.patchit.PatchitPlugin"}],
        "config": config_section(),
    }
