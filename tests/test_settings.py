"""Configuration from the environment: safe defaults locally, no working defaults in production."""

import os
import secrets
import subprocess
import sys

from tests.conftest import ROOT


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "CELERY_BROKER_URL",
            "SECRET_KEY",
            "ALLOWED_HOSTS",
            "DJANGO_SETTINGS_MODULE",
            "CACHE_URL",
        }
    }
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": secrets.token_urlsafe(64),
    "ALLOWED_HOSTS": "npq.example.org",
    "DATABASE_URL": "postgres://npq:secret@db.example.org:5432/npq",
    "CELERY_BROKER_URL": "redis://redis.example.org:6379/0",
    "CACHE_URL": "redis://redis.example.org:6379/1",
}


def test_production_settings_pass_check_deploy_with_zero_warnings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_does_warn_about_local_settings():
    # Proves the test above can fail: the local defaults are not fit for production.
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", DJANGO_ENV="local")
    assert result.returncode != 0
    assert "security.W018" in result.stderr  # DEBUG is on


def test_production_refuses_to_start_without_each_secret():
    for name in ("SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "CELERY_BROKER_URL"):
        env = {k: v for k, v in PRODUCTION_ENV.items() if k != name}
        result = run_manage("check", **env)
        assert result.returncode != 0, name
        assert f"{name} must be set when DJANGO_ENV=production" in result.stderr


def test_production_refuses_a_cache_that_web_workers_do_not_share():
    # Sign-in rate limits are counted in the cache: a per-process cache would give every
    # gunicorn worker its own count, multiplying the attempts an attacker gets.
    without = {k: v for k, v in PRODUCTION_ENV.items() if k != "CACHE_URL"}
    for cache_url in (None, "locmemcache://", "filecache:///tmp/npq-cache"):
        env = without if cache_url is None else {**without, "CACHE_URL": cache_url}
        result = run_manage("check", **env)
        assert result.returncode != 0, cache_url
        assert "CACHE_URL must name a shared cache" in result.stderr


def test_unknown_environment_name_is_refused():
    result = run_manage("check", DJANGO_ENV="staging")
    assert result.returncode != 0
    assert "DJANGO_ENV must be local, test or production" in result.stderr


def test_with_no_environment_the_portal_uses_sqlite_and_eager_celery():
    result = run_manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER)",
        DJANGO_ENV="local",
    )
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True"], result.stderr


def test_with_urls_set_the_portal_uses_postgresql_and_a_broker():
    result = run_manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, s.CELERY_BROKER_URL)",
        DJANGO_ENV="local",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/0",
    )
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "False",
        "redis://127.0.0.1:6379/0",
    ], result.stderr


def test_celery_is_configured_for_safe_redelivery():
    from django.conf import settings

    assert settings.CELERY_TASK_SERIALIZER == "json"
    assert settings.CELERY_ACCEPT_CONTENT == ["json"]
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True
    assert settings.CELERY_TASK_TIME_LIMIT > settings.CELERY_TASK_SOFT_TIME_LIMIT > 0
    from npq_portal.celery import app

    app.loader.import_default_modules()
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, f"beat entry {name} names an unknown task"


def test_production_static_files_collect_with_hashed_names(tmp_path):
    # The Docker image runs collectstatic with the manifest storage: every url() must resolve.
    result = run_manage("collectstatic", "--noinput", **PRODUCTION_ENV, STATIC_ROOT=str(tmp_path))
    assert result.returncode == 0, result.stderr
    manifest = (tmp_path / "staticfiles.json").read_text()
    assert "vendor/govuk-frontend/govuk-frontend.min.css" in manifest
