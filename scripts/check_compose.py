"""Structural checks of docker-compose.yml that `docker compose config` would not make: the
production shape the README describes is what the file says."""

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
# What production settings refuse to start without (npq_portal/settings.py).
REQUIRED_ENV = {"DJANGO_ENV", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL"}
PORTAL_SERVICES = ("web", "worker", "beat")


def problems(compose: dict) -> list[str]:
    found = []
    services = compose.get("services") or {}
    for name in ("postgres", "redis", "web", "proxy", "worker", "beat"):
        if name not in services:
            found.append(f"no {name} service")
    for name, service in services.items():
        if "healthcheck" not in service:
            found.append(f"{name} has no healthcheck")
    images = {services[name].get("image") for name in PORTAL_SERVICES if name in services}
    if len(images) != 1:
        found.append(f"web, worker and beat must run one image, not {sorted(map(str, images))}")
    for name in (name for name in PORTAL_SERVICES if name in services):
        env = set(services[name].get("environment") or {})
        if missing := REQUIRED_ENV - env:
            found.append(f"{name} lacks {', '.join(sorted(missing))}")
    redis_command = " ".join((services.get("redis") or {}).get("command") or [])
    if "--appendonly yes" not in redis_command:
        found.append("redis must keep an append-only file (queued tasks survive a restart)")
    return found


def main() -> int:
    path = ROOT / "docker-compose.yml"
    try:
        compose = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        print(f"{path.name} is not valid YAML: {exc}", file=sys.stderr)
        return 1
    found = problems(compose if isinstance(compose, dict) else {})
    for problem in found:
        print(f"{path.name}: {problem}", file=sys.stderr)
    if not found:
        print(f"{path.name}: the production shape is complete")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
