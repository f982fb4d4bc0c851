"""Vulnerable dependencies of pipeline repositories (issue 13), the findings half, no Airflow.

`scan_requirements(requirements, osv_dir, repo=..., today=...)` reads pinned requirements and a
folder of OSV records and returns a `VulnScan`: per vulnerable package its advisories, the CVSS
score computed from their vectors, the smallest fixing version that the project's constraints
allow, the DAG files that import it and a deadline. `requirements_patch(finding, ...)` turns a
fix into a `PatchProposal`; `plan_fix_rollout(finding, ...)` into a rollout plan.
"""

from patchit_provider.engine.vulns.osv import OsvDatabase, load_osv_dir
from patchit_provider.engine.vulns.patch import PatchRefused, requirements_patch
from patchit_provider.engine.vulns.pip_audit import import_pip_audit
from patchit_provider.engine.vulns.rollout import plan_fix_rollout
from patchit_provider.engine.vulns.scan import scan_requirements

__all__ = [
    "OsvDatabase",
    "PatchRefused",
    "import_pip_audit",
    "load_osv_dir",
    "plan_fix_rollout",
    "requirements_patch",
    "scan_requirements",
]
