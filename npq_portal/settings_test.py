"""Settings for pytest: the normal settings with DJANGO_ENV forced to ``test``."""

import os

os.environ["DJANGO_ENV"] = "test"

from npq_portal.settings import *  # noqa: F403

# A file rather than SQLite's in-memory database, so that a real Celery worker process can
# read what a test wrote (PostgreSQL, as in CI, needs no such change).
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "test-db.sqlite3")}  # noqa: F405
