"""The README is the user's configuration reference: it must name every option, with its default."""

from pathlib import Path

from patchit_provider.engine.settings import config_section

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_every_option_is_documented_with_its_default():
    for name, option in config_section()["patchit"]["options"].items():
        row = next((line for line in README.splitlines() if line.startswith(f"| `{name}` |")), None)
        assert row is not None, f"README does not document [patchit] {name}"
        shown = option["default"] or "(empty)"
        assert f"`{shown}`" in row or shown in row, f"README shows the wrong default for {name}: {row}"


def test_readme_names_the_two_setup_commands():
    assert "bash scripts/demo.sh" in README and "bash scripts/test.sh" in README
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert "scripts/test.sh" in ci
