"""Settings of the gunicorn the page benchmark loads: the portal's own (run with
DJANGO_ENV=production by bench/pages.py) plus one URL, the baseline's signed-in page."""

from npq_portal.settings import *  # noqa: F403 - the portal's settings, unchanged

ROOT_URLCONF = "bench.urls"
