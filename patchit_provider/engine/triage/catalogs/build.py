"""Regenerate the catalog data files from the installed engines (run by hand after an upgrade):

    python -m patchit_provider.engine.triage.catalogs.build

- spark_conditions.json: {error condition: SQLSTATE} from Spark's own catalog,
  `error/error-conditions.json` inside pyspark's `jars/spark-common-utils_*.jar` (the JVM side:
  the conditions Spark SQL raises), merged with pyspark's `pyspark/errors/error-conditions.json`
  (the Python side). https://spark.apache.org/docs/latest/sql-error-conditions.html
- pg_sqlstates.json: {psycopg.errors class name: SQLSTATE} from the installed psycopg, whose
  `psycopg.errors` classes are generated from PostgreSQL's errcodes.txt
  (https://www.postgresql.org/docs/current/errcodes-appendix.html); psycopg2.errors uses the
  same class names.

The engine only reads the JSON files (no pyspark or psycopg needed at triage time).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def spark_conditions() -> dict[str, str]:
    import pyspark

    root = Path(pyspark.__file__).parent
    conditions: dict[str, str] = {}
    for jar in sorted((root / "jars").glob("spark-common-utils_*.jar")):
        with zipfile.ZipFile(jar) as archive:
            data = json.loads(archive.read("error/error-conditions.json"))
        conditions.update({name: spec.get("sqlState", "") for name, spec in data.items()})
    python_side = json.loads((root / "errors" / "error-conditions.json").read_text())
    for name, spec in python_side.items():
        conditions.setdefault(name, spec.get("sqlState", "") if isinstance(spec, dict) else "")
    return dict(sorted(conditions.items()))


def pg_sqlstates() -> dict[str, str]:
    import psycopg.errors as errors

    table = {}
    for name in dir(errors):
        cls = getattr(errors, name)
        state = getattr(cls, "sqlstate", None)
        if isinstance(cls, type) and isinstance(state, str) and len(state) == 5:
            table[name] = state
    return dict(sorted(table.items()))


def main() -> None:
    (HERE / "spark_conditions.json").write_text(json.dumps(spark_conditions(), indent=0, sort_keys=True) + "\n")
    (HERE / "pg_sqlstates.json").write_text(json.dumps(pg_sqlstates(), indent=0, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
