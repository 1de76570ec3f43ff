"""What production installs, and the production shape in docker-compose.yml."""

import re
import sys
from pathlib import Path

import yaml

from tests.conftest import ROOT

TEST_TOOLS = {"pytest", "pytest-django", "playwright", "ruff", "factory-boy", "time-machine", "pyyaml"}


def pins(lock: str) -> dict[str, str]:
    text = Path(ROOT, lock).read_text()
    return dict(re.findall(r"^([a-z0-9][a-z0-9._-]*)==(\S+)", text, re.M))


def test_the_production_lock_has_no_test_tools_and_the_development_lock_adds_them():
    production, development = pins("requirements.lock"), pins("requirements-dev.lock")
    assert "django" in production and "gunicorn" in production
    assert not TEST_TOOLS & set(production)
    assert set(development) >= TEST_TOOLS
    # The same version of every package production uses, in both.
    assert {name: development[name] for name in production} == production


def test_every_pinned_package_carries_a_hash():
    for lock in ("requirements.lock", "requirements-dev.lock"):
        entries = re.split(r"\n(?=[a-z0-9])", Path(ROOT, lock).read_text().split("\n", 2)[2])
        for entry in filter(str.strip, entries):
            assert "--hash=sha256:" in entry, (lock, entry.splitlines()[0])


def test_the_image_installs_only_the_production_lock_and_checks_its_hashes():
    dockerfile = Path(ROOT, "Dockerfile").read_text()
    installs = re.findall(r"pip install[^\n]*", dockerfile)
    assert installs == ["pip install --no-cache-dir --require-hashes --no-deps -r requirements.lock"]
    assert "requirements-dev.lock" not in dockerfile


def test_the_compose_check_passes_on_the_projects_file_and_fails_on_a_broken_one():
    sys.path.insert(0, str(Path(ROOT, "scripts")))
    try:
        from check_compose import problems
    finally:
        sys.path.pop(0)
    compose = yaml.safe_load(Path(ROOT, "docker-compose.yml").read_text())
    assert problems(compose) == []
    compose["services"]["redis"]["command"] = ["redis-server"]
    worker = compose["services"]["worker"]
    worker["environment"] = {k: v for k, v in worker["environment"].items() if k != "CACHE_URL"}
    del compose["services"]["beat"]
    assert problems(compose) == [
        "no beat service",
        "worker lacks CACHE_URL",
        "redis must keep an append-only file (queued tasks survive a restart)",
    ]
