"""A small pipeline repository with a requirements file of every kind pip reads, and the OSV
records of ./osv (README there says where each comes from)."""

from __future__ import annotations

from pathlib import Path

import pytest

OSV = Path(__file__).parent / "osv"

REQUIREMENTS = """\
# pipeline requirements
-r requirements/base.txt
-c constraints.txt
--index-url https://pypi.org/simple
Jinja2[i18n]==3.1.2 ; python_version >= "3.8"  # templating
python_multipart==0.0.9
PyYAML==5.3.1 \\
    --hash=sha256:b8eac752c5e14d3eca0e6dd9199cd627518cb5ec06add0de9d32baeee6fe645d \\
    --hash=sha256:06a0d7ba600ce0b2d2fe2e78453a470b5a6e000a985dd4a4e54e436cc36b0e97
pywin32==306 ; sys_platform == "win32"
-e ./libs/internal
mylib @ https://example.invalid/mylib-1.0.tar.gz
pandas>=2.0
ecdsa==0.19.0
flask-caching==1.10.1
-r ../outside.txt
"""

REPORTS_DAG = """\
from airflow.sdk import DAG, task

with DAG("reports", tags=["criticality:4"], schedule=None):
    @task
    def render():
        from jinja2 import Template
        return Template("{{ x }}").render(x=1)

    render()
"""

INGEST_DAG = """\
import yaml as y
from airflow.sdk import dag, task


@dag(schedule=None, default_args={"sla": 3600})
def ingest():
    @task
    def load():
        return y.safe_load("a: 1")

    load()


ingest()
"""

UPLOADS_DAG = """\
import airflow.sdk as sdk


def parse(headers):
    import multipart.multipart as mp
    return mp.parse_options_header(headers)


with sdk.DAG(dag_id="uploads", schedule=None):
    pass
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def vuln_osv() -> Path:
    return OSV


@pytest.fixture
def vuln_write():
    return write


@pytest.fixture
def vuln_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "pipelines"
    (tmp_path / "outside.txt").write_text("requests==2.0.0\n")
    return write(
        repo,
        {
            "requirements.txt": REQUIREMENTS,
            "requirements/base.txt": "urllib3==2.0.7   # via requests\n",
            "constraints.txt": "jinja2<3.2\n",
            "dags/reports.py": REPORTS_DAG,
            "dags/ingest.py": INGEST_DAG,
            "dags/uploads.py": UPLOADS_DAG,
            "utils/helpers.py": "import jinja2\n",
        },
    )
