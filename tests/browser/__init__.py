"""The browser tests: a package, so that their Airflow and Chromium stop when they are over."""
