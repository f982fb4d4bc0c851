"""Blast radius: DAG files importing a distribution, found statically."""

from __future__ import annotations

from patchit_provider.engine.vulns.blast import dag_files, import_names, importers

DAG = "from airflow.sdk import DAG\n"


def test_distribution_names_map_to_import_names():
    assert "yaml" in import_names("PyYAML") and "bs4" in import_names("beautifulsoup4")
    assert "jinja2" in import_names("Jinja2") and "python_dateutil" in import_names("python-dateutil")
    assert "dateutil" in import_names("python-dateutil")


def test_every_import_form_is_found_and_only_in_dag_files(tmp_path, vuln_write):
    vuln_write(
        tmp_path,
        {
            "dags/a.py": DAG + "import bs4.element as el\nwith DAG('a'):\n    pass\n",
            "dags/b.py": DAG + "with DAG(dag_id='b'):\n    def t():\n        from bs4 import BeautifulSoup\n",
            "dags/c.py": DAG + "import bs4x\nwith DAG('c'):\n    pass\n",  # another package with a common prefix
            "dags/d.py": DAG
            + "from . import bs4\nwith DAG('d'):\n    pass\n",  # a relative import is the repository's own
            "lib/e.py": "import bs4\n",  # not a DAG file
            "dags/broken.py": "import bs4\nwith DAG('x'\n",  # does not parse: not counted, no crash
            ".venv/lib/f.py": DAG + "import bs4\nDAG('f')\n",
        },
    )
    found = importers(dag_files(tmp_path), "beautifulsoup4")
    assert [d.path for d in found] == ["dags/a.py", "dags/b.py"]
    assert found[0].imports == ["bs4.element:2"] and found[1].dag_ids == ["b"]


def test_criticality_from_map_then_tags_then_sla(tmp_path, vuln_write):
    vuln_write(
        tmp_path,
        {
            "dags/tagged.py": DAG + "import yaml\nwith DAG('tagged', tags=['critical', 'team:x']):\n    pass\n",
            "dags/sla.py": DAG
            + "import yaml\nfrom datetime import timedelta\nwith DAG('sla', default_args={'sla': timedelta(hours=1)}):\n    pass\n",
            "dags/plain.py": DAG + "import yaml\nwith DAG('plain'):\n    pass\n",
            "dags/finance.py": DAG + "import yaml\nwith DAG('finance_close', tags=['criticality:2']):\n    pass\n",
        },
    )
    files = dag_files(tmp_path)
    levels = {d.path: (d.criticality, d.criticality_from) for d in importers(files, "PyYAML", {"finance_*": 9})}
    assert levels == {
        "dags/finance.py": (9, "map"),
        "dags/plain.py": (1, "default"),
        "dags/sla.py": (3, "sla"),
        "dags/tagged.py": (5, "tags"),
    }
