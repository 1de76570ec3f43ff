"""The docs name only files, tests and modules that exist, and the floors in the order the code keeps.

What is read, in README.md and docs/*.md, is text in backticks:

- A repository path is backticked text whose first part (before the first "/") is a directory at
  the root of the repository: `engagement/tally.py`, `funding/imports/`, `tests/test_faults.py`,
  `docs/benchmarks.md`. It must exist. Two shorthands are understood: `app/0002` names a
  migration (app/migrations/0002_*.py), and a path ending in .html is a template name, found in
  templates/ or an app's templates/ when it is not a repository path itself.
- Everything else in backticks is not a path, and is left alone: text starting with "/" (admin
  and page addresses), text holding "://" (URLs), a space (commands) or one of < > * { } ?
  (patterns such as `<app>/services.py`), text with no "/" at all, and paths of runtime or
  generated folders (RUNTIME below: `staticfiles/`, `media/`, `.venv/`).
- `tests/test_x.py::name` also needs `name` defined (a test, fixture or class) in that file, and
  a backticked bare test name (`test_kill_9_...`, as in docs/reliability.md's table) must be
  defined in some file under tests/.

docs/architecture.md is checked against the code as well: each module in its "Notable modules"
column exists in that row's app, each dotted name it gives from an app (`common.personal_data.register`)
imports, and its floors diagram lists the apps top to bottom in the order of the layers contract
under [tool.importlinter] in pyproject.toml.
"""

import ast
import importlib
import re
import tomllib
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
ARCHITECTURE = ROOT / "docs" / "architecture.md"
# Folders that exist only once the portal has run or been built (or never in git): not documented files.
RUNTIME = frozenset(
    {".git", ".venv", ".ruff_cache", "media", "staticfiles", "node_modules", "test-artifacts"}
)
NOT_A_PATH = re.compile(r"[\s<>*{}?]|://")
BACKTICKED = re.compile(r"`([^`\n]+)`")


def repository_directories() -> frozenset[str]:
    return frozenset(p.name for p in ROOT.iterdir() if p.is_dir() and p.name not in RUNTIME)


def backticked(doc: Path) -> list[tuple[int, str]]:
    """(line number, text) of every backticked text in the doc."""
    text = doc.read_text()
    return [(text.count("\n", 0, m.start()) + 1, m.group(1)) for m in BACKTICKED.finditer(text)]


def repository_path(text: str, directories: frozenset[str]) -> str | None:
    """The repository path the backticked text names (before any ::), or None if it names none."""
    path = text.partition("::")[0]
    if path.startswith("/") or "/" not in path or NOT_A_PATH.search(path):
        return None
    return path if path.split("/")[0] in directories else None


def path_exists(path: str) -> bool:
    if (ROOT / path).exists():
        return True
    migration = re.fullmatch(r"(\w+)/(\d{4})", path)
    if migration:
        return any((ROOT / migration[1] / "migrations").glob(f"{migration[2]}_*.py"))
    if path.endswith(".html"):
        return (ROOT / "templates" / path).exists() or any(ROOT.glob(f"*/templates/{path}"))
    return False


@cache
def names_defined(path: Path) -> frozenset[str]:
    """Every function and class name defined in a Python file, at any depth."""
    tree = ast.parse(path.read_text(), filename=str(path))
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    return frozenset(node.name for node in ast.walk(tree) if isinstance(node, kinds))


def missing_in(docs: list[Path]) -> list[str]:
    """Each path or test the docs name that is not in the repository, as 'doc:line: `text`'."""
    directories = repository_directories()
    test_names = frozenset().union(*(names_defined(p) for p in (ROOT / "tests").rglob("*.py")))
    missing = []
    for doc in docs:
        for line, text in backticked(doc):
            where = f"{doc.relative_to(ROOT) if doc.is_relative_to(ROOT) else doc.name}:{line}: `{text}`"
            if re.fullmatch(r"test_\w+", text):
                if text not in test_names and not (ROOT / "tests" / f"{text}.py").exists():
                    missing.append(where)
                continue
            path = repository_path(text, directories)
            if path is None:
                continue
            if not path_exists(path):
                missing.append(where)
                continue
            name = text.partition("::")[2]
            if name and name not in names_defined(ROOT / path):
                missing.append(where)
    return missing


def test_every_path_and_test_the_docs_name_exists():
    assert missing_in(DOCS) == []


def test_a_doc_naming_a_missing_file_or_test_fails(tmp_path):
    doc = tmp_path / "broken.md"
    doc.write_text(
        "The tally is `programmes/engagement.py`; the rules are `funding/eligibility.py`.\n"
        "Faults: `tests/test_faults.py::test_no_such_test`, `test_no_such_test_anywhere`.\n"
        "Not paths: `/admin/programmes/activity/`, `<app>/services.py`, `staticfiles/`,\n"
        "`https://example.org/a/b`, `python bench/imports.py --explain`, `privacy/0002`.\n"
    )
    assert missing_in([doc]) == [
        "broken.md:1: `programmes/engagement.py`",
        "broken.md:2: `tests/test_faults.py::test_no_such_test`",
        "broken.md:2: `test_no_such_test_anywhere`",
    ]


# --- docs/architecture.md against the code ---------------------------------------------------------


def layers() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (contract,) = [c for c in config["contracts"] if c["type"] == "layers"]
    return contract["layers"]


def test_the_floors_diagram_lists_the_apps_in_the_order_of_the_layers_contract():
    text = ARCHITECTURE.read_text()
    diagram = text.split("```")[1]  # the first code block
    apps = set(layers())
    # Each floor is a line "  app      what it owns"; the continuation lines start further in.
    floors = [m[1] for m in re.finditer(r"^ {1,4}(\w+)\s{2,}\S", diagram, re.M) if m[1] in apps]
    assert floors == layers()


def notable_modules() -> list[tuple[str, str]]:
    """(app, module) for each backticked .py or folder in the table's last column."""
    rows = re.findall(r"^\| `(\w+)` \|[^|\n]*\|([^\n]*)\|\s*$", ARCHITECTURE.read_text(), re.M)
    return [
        (app, module)
        for app, cell in rows
        for module in BACKTICKED.findall(cell)
        if module.endswith((".py", "/"))
    ]


def test_every_module_the_architecture_names_is_in_its_app():
    modules = notable_modules()
    assert {app for app, _ in modules} == set(layers())  # every app has its row
    assert [f"{app}/{module}" for app, module in modules if not (ROOT / app / module).exists()] == []


def test_every_dotted_name_the_architecture_gives_imports():
    apps = "|".join(layers())
    dotted = sorted(set(re.findall(rf"`((?:{apps})(?:\.\w+)+)`", ARCHITECTURE.read_text())))
    assert dotted  # the hooks: signals and registries
    for name in dotted:
        parts = name.split(".")
        for split in range(len(parts), 0, -1):
            try:
                found = importlib.import_module(".".join(parts[:split]))
            except ModuleNotFoundError:
                continue
            for attribute in parts[split:]:
                found = getattr(found, attribute, None)
            assert found is not None, name
            break
        else:
            pytest.fail(f"{name} does not import")
