#!/usr/bin/env bash
# Check docker-compose.yml (part of `make test`): `docker compose config` where the compose
# plugin is installed, and always the portal's own structural checks (scripts/check_compose.py).
# Where a Docker engine runs, the production image is built too.
set -euo pipefail
cd "$(dirname "$0")/.."
export SECRET_KEY=check ALLOWED_HOSTS=npq.example.org SITE_URL=https://npq.example.org \
  POSTGRES_PASSWORD=check EMAIL_URL=smtp://mail.example.org DEFAULT_FROM_EMAIL=npq@example.org
if docker compose version >/dev/null 2>&1; then
  docker compose -f docker-compose.yml config --quiet
  echo "docker compose config: docker-compose.yml is valid"
else
  echo "docker compose is not installed here: docker-compose.yml checked by scripts/check_compose.py only"
fi
.venv/bin/python scripts/check_compose.py
if docker info >/dev/null 2>&1; then
  docker build --quiet --tag npq-portal:check . >/dev/null
  echo "docker build: the production image builds"
else
  echo "No Docker engine here: the image build is not checked in this run"
fi
