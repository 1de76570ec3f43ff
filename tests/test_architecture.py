"""The floors of docs/architecture.md hold: import-linter's contract (pyproject.toml) passes on
the code, and fails, naming the import, when an app imports one above it."""

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]


def lint_imports(where: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=where, capture_output=True, text=True, timeout=120
    )


def copy_of_the_code(tmp_path: Path) -> Path:
    for package in CONFIG["root_packages"]:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "migrations")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_layers_name_every_app_and_the_contract_has_no_exceptions():
    (contract,) = CONFIG["contracts"]
    assert contract["type"] == "layers"
    assert contract["layers"] == CONFIG["root_packages"]
    assert "ignore_imports" not in contract and "unmatched_ignore_imports_alerting" not in contract
    # Every Python package at the top of the project (besides tests and tools) is a floor.
    packages = {
        p.parent.name
        for p in ROOT.glob("*/__init__.py")
        if p.parent.name not in {"tests", "bench", "scripts", "deploy", "frontend", "docs"}
    }
    assert packages == set(CONFIG["root_packages"])


def test_the_code_keeps_the_contract():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("importer", "line", "imported"),
    [
        # The ground floor reaching up into a domain app.
        ("common/dates.py", "from programmes.models import Course", "programmes.models"),
        # An import inside a function counts as much as one at the top.
        (
            "programmes/services.py",
            "def _up():\n    from engagement.models import Activity",
            "engagement.models",
        ),
        # A cycle between two apps: assessment already imports engagement.
        ("engagement/tally.py", "from assessment import models as _assessment", "assessment"),
    ],
)
def test_an_import_from_a_floor_above_breaks_the_contract(tmp_path, importer, line, imported):
    code = copy_of_the_code(tmp_path)
    with open(code / importer, "a") as module:
        module.write(f"\n\n{line}  # noqa\n")
    result = lint_imports(code)
    assert result.returncode == 1
    assert "1 broken" in result.stdout
    importer_module = importer.removesuffix(".py").replace("/", ".")
    assert re.search(rf"{re.escape(importer_module)} -> {re.escape(imported)}\b", result.stdout), (
        result.stdout
    )
