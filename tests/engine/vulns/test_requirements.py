"""pip requirements syntax through `packaging`: nothing silently dropped."""

from __future__ import annotations

from packaging.markers import default_environment

from patchit_provider.engine.vulns.requirements import parse_requirements


def test_hashes_extras_markers_comments_and_continuations(tmp_path):
    (tmp_path / "requirements.txt").write_text(
        "Jinja2[i18n,extra]==3.1.2 ; python_version >= '3.8'   # templating\n"
        "PyYAML==5.3.1 \\\n    --hash=sha256:aa \\\n    --hash sha256:bb\n"
        "# a comment line\n\n"
        "requests===2.31.0\n"
    )
    reqs = parse_requirements(tmp_path / "requirements.txt", tmp_path)
    pins = {p.name: p for p in reqs.pins}
    assert sorted(pins) == ["jinja2", "pyyaml", "requests"]
    assert pins["jinja2"].requirement.extras == {"i18n", "extra"} and pins["jinja2"].line == 1
    assert pins["pyyaml"].hashes == ["sha256:aa", "sha256:bb"] and pins["pyyaml"].line == 2
    assert pins["pyyaml"].text.count("\n") == 3  # the whole logical line, for the patch
    assert str(pins["requests"].version) == "2.31.0"
    assert reqs.skipped == []


def test_markers_are_evaluated_for_the_target_interpreter(tmp_path):
    (tmp_path / "r.txt").write_text("tomli==2.0.1 ; python_version < '3.11'\n")
    py310 = default_environment() | {"python_version": "3.10", "python_full_version": "3.10.12"}
    py312 = default_environment() | {"python_version": "3.12", "python_full_version": "3.12.1"}
    assert [p.name for p in parse_requirements(tmp_path / "r.txt", tmp_path, py310).pins] == ["tomli"]
    skipped = parse_requirements(tmp_path / "r.txt", tmp_path, py312)
    assert skipped.pins == [] and "Python 3.12.1" in skipped.skipped[0].reason


def test_includes_follow_relative_paths_and_never_leave_the_repository(tmp_path):
    repo = tmp_path / "repo"
    (repo / "reqs").mkdir(parents=True)
    (tmp_path / "secret.txt").write_text("leak==1.0\n")
    (repo / "requirements.txt").write_text(
        "-r reqs/base.txt\n--constraint=reqs/constraints.txt\n-r ../secret.txt\n-r /etc/passwd\n"
    )
    (repo / "reqs" / "base.txt").write_text("urllib3==2.0.7\n-r ../requirements.txt\n")
    (repo / "reqs" / "constraints.txt").write_text("urllib3<2.2\njinja2==3.1.2\n")
    reqs = parse_requirements(repo / "requirements.txt", repo)
    assert [p.name for p in reqs.pins] == ["urllib3"]  # a constraint file's pins constrain, are not scanned
    assert str(reqs.constraints["urllib3"]) == "<2.2" and str(reqs.constraints["jinja2"]) == "==3.1.2"
    reasons = [s.reason for s in reqs.skipped]
    assert any("cycle" in r for r in reasons)
    assert sum("points outside the repository" in r for r in reasons) == 2
    assert reqs.files == ["requirements.txt", "reqs/base.txt", "reqs/constraints.txt"]


def test_unpinned_editable_url_and_invalid_lines_are_reported(tmp_path):
    (tmp_path / "r.txt").write_text(
        "pandas>=2.0\n-e ./libs/x\n./wheels/pkg-1.0-py3-none-any.whl\nthing @ git+https://example.invalid/t.git\n"
        "numpy==1.*\nnot a requirement!!\n-r missing.txt\n--extra-index-url https://example.invalid/simple\n"
    )
    reqs = parse_requirements(tmp_path / "r.txt", tmp_path)
    reasons = {s.item: s.reason for s in reqs.skipped}
    assert reqs.pins == []
    assert "not pinned with ==" in reasons["r.txt:1"] and "editable" in reasons["r.txt:2"]
    assert reasons["r.txt:3"].startswith("URL or path requirement")
    assert reasons["r.txt:4"].startswith("URL requirement")
    assert "not pinned with ==" in reasons["r.txt:5"]  # a wildcard is not one version
    assert reasons["r.txt:6"].startswith("not a valid requirement")
    assert "cannot be read" in reasons["missing.txt"]
    assert str(reqs.constraints["pandas"]) == ">=2.0"
