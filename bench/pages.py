"""Page load under a real HTTP load generator: wrk against gunicorn on 127.0.0.1.

gunicorn runs the portal as production does (DJANGO_ENV=production, DEBUG off, Redis cache,
static files from collectstatic's manifest, persistent database connections; 2 sync workers)
with ``bench.settings``, which adds one URL: the baseline, a signed-in page doing nothing but
the middleware, the session and its user. Each page is loaded for ``DURATION_S`` seconds by
``CONNECTIONS`` connections (``wrk --latency``), signed in by a session made directly in the
session table (a hub administrator with an authenticator app, as the two-factor middleware
requires, or a participant); its query count is measured once with Django's test client.

Every page is first fetched once and must answer 200 (a redirect to sign in would otherwise be
timed as a fast page: wrk counts 3xx as success).
"""

from __future__ import annotations

import http.client
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.dataset import BENCH_URL, PARTICIPANT_EMAIL, admin_email
from bench.report import format_seconds, not_measured, parse_wrk

ROOT = Path(__file__).resolve().parent.parent
DURATION_S = int(os.environ.get("BENCH_PAGE_SECONDS", "10"))
MAX_DURATION_S = 60
CONNECTIONS = 8
THREADS = 2
WORKERS = 2
PAGE_GOAL_S = 0.3
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
# The same key in this process (which makes the sessions) and in gunicorn (which reads them).
SECRET_KEY = "bench-only-secret-key-for-a-generated-database-0123456789abcdef"  # noqa: S105
BASELINE = "trivial signed-in view"
# collectstatic's output for the bench's gunicorn (and this process's test client), kept between runs.
STATIC_ROOT = str(Path(tempfile.gettempdir()) / "npq-bench-static")


@dataclass(frozen=True)
class Page:
    what: str
    who: str  # "hub_admin" or "participant"
    path: str


def gunicorn_environment(static_root: str) -> dict[str, str]:
    """Production's settings, on 127.0.0.1 and the bench database."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DEBUG"))}
    env.update(
        DJANGO_ENV="production",
        DJANGO_SETTINGS_MODULE="bench.settings",
        SECRET_KEY=SECRET_KEY,
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=BENCH_URL,
        CACHE_URL=REDIS_URL,
        CELERY_BROKER_URL=REDIS_URL,
        STATIC_ROOT=static_root,
        LOG_LEVEL="WARNING",
        SENTRY_DSN="",
    )
    return env


def pages() -> list[Page]:
    """The pages measured, on the dataset: the biggest course and a participant on it."""
    from django.db.models import Count

    from accounts.models import User
    from programmes.models import Course, Participant

    courses = Course.objects.annotate(size=Count("participants")).select_related("cohort")
    big_course = courses.order_by("-size", "pk").first()
    # A course of the usual size in the same hub: the page's time should not grow with the size.
    usual_course = courses.filter(cohort__hub=big_course.cohort.hub_id).order_by("size", "pk").first()
    participant = Participant.objects.get(user__email=PARTICIPANT_EMAIL)
    assert User.objects.filter(email=admin_email(1), hub_memberships__hub=big_course.cohort.hub_id).exists()
    return [
        Page(BASELINE, "hub_admin", "/bench/signed-in"),
        Page("admin applications changelist, hub admin", "hub_admin", "/admin/applications/application/"),
        Page("admin participants changelist, hub admin", "hub_admin", "/admin/programmes/participant/"),
        Page(
            f"course engagement page, {big_course.size:,} participants",
            "hub_admin",
            f"/admin/programmes/course/{big_course.pk}/engagement/",
        ),
        Page(
            f"course engagement page, {usual_course.size:,} participants",
            "hub_admin",
            f"/admin/programmes/course/{usual_course.pk}/engagement/",
        ),
        Page("participant home", "participant", "/"),
        Page("participant engagement page", "participant", f"/enrolments/{participant.pk}/"),
    ]


def make_sessions() -> dict[str, str]:
    """A signed-in session for each role, as a sign-in would leave it (with two factors for the
    hub administrator, whose account has an authenticator app)."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    from accounts.models import User

    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    sessions = {}
    for who, email in (("hub_admin", admin_email(1)), ("participant", PARTICIPANT_EMAIL)):
        user = User.objects.get(email=email)
        store = store_class()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        sessions[who] = store.session_key
    return sessions


def drop_sessions(sessions: dict[str, str]) -> None:
    from django.contrib.sessions.models import Session

    Session.objects.filter(session_key__in=sessions.values()).delete()


def count_queries(page: Page, session_key: str) -> int:
    """Database queries of one request (the second: the first fills per-process caches)."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = session_key
    with override_settings(ROOT_URLCONF="bench.urls", ALLOWED_HOSTS=["testserver"]):
        client.get(page.path)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(page.path)
    if response.status_code != 200:
        raise RuntimeError(f"{page.path} answered {response.status_code} to the test client")
    return len(queries)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port: int, path: str, session_key: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path, headers=_headers(session_key))
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _headers(session_key: str) -> dict[str, str]:
    # gunicorn sits behind a TLS proxy in production; the proxy's header says the request was
    # HTTPS (SECURE_PROXY_SSL_HEADER), so no redirect to https:// and the secure cookie holds.
    return {"Cookie": f"sessionid={session_key}", "X-Forwarded-Proto": "https", "Host": "127.0.0.1"}


class Gunicorn:
    """gunicorn serving the portal with production settings, for the duration of a ``with``."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.workdir = Path(tempfile.mkdtemp(prefix="npq-bench-"))
        self.log = self.workdir / "gunicorn.log"
        self.env = gunicorn_environment(STATIC_ROOT)
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Gunicorn:
        bin_dir = Path(sys.executable).parent
        # Production serves static files from the manifest collectstatic writes.
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=ROOT,
            env=self.env,
            check=True,
        )
        self.process = subprocess.Popen(  # noqa: S603 - fixed argument list
            [
                str(bin_dir / "gunicorn"),
                "npq_portal.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(WORKERS),
                "--error-logfile",
                str(self.log),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn stopped: {self.errors()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start listening within 60 s")

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def errors(self) -> str:
        """The end of gunicorn's error log: the last lines say why it stopped or failed."""
        if not self.log.exists():
            return ""
        lines = [line for line in self.log.read_text().splitlines() if line.strip()]
        return " / ".join(lines[-3:])[-600:]


def load_seconds(alone_s: float) -> int:
    """How long to load a page: DURATION_S, or longer for a slow page (up to MAX_DURATION_S), so
    that each connection has about three of its requests answered: with CONNECTIONS
    connections on WORKERS workers a request waits for CONNECTIONS / WORKERS - 1 others."""
    return min(MAX_DURATION_S, max(DURATION_S, math.ceil(3 * alone_s * CONNECTIONS / WORKERS)))


def wrk(port: int, path: str, session_key: str, seconds: int = DURATION_S) -> dict[str, float | int]:
    """``wrk --latency`` for ``seconds`` on one page (time-outs at 60 s, not wrk's 2 s, so that a
    slow page's slow requests count in its latency instead of disappearing)."""
    command = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "60s", "--latency"]
    for name, value in _headers(session_key).items():
        command += ["-H", f"{name}: {value}"]
    command.append(f"http://127.0.0.1:{port}{path}")
    result = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 120)  # noqa: S603
    return parse_wrk(result.stdout) | {"seconds": seconds}


def page_row(page: Page, load: dict, queries: int, baseline: dict | None) -> dict[str, object]:
    is_baseline = page.what == BASELINE
    notes = [
        f"{load['requests']:,} requests in {load['seconds']} s ({load['requests_per_s']:.1f}/s) on "
        f"{CONNECTIONS} connections; one request alone {format_seconds(load['alone_s'])}"
    ]
    if load["non_2xx_3xx"] or load["socket_errors"]:
        notes.append(f"{load['non_2xx_3xx']} error responses, {load['socket_errors']} socket errors")
    if load["requests"] == 0:
        # wrk reports latencies of 0 when nothing finished: the page is slower than the run.
        load = load | {"p50": float(load["seconds"]), "p99": float(load["seconds"])}
        measured = f"no request answered in {load['seconds']} s"
    else:
        measured = f"p99 {format_seconds(load['p99'])} (p50 {format_seconds(load['p50'])})"
    ratio = None if is_baseline or baseline is None else load["p99"] / baseline["p99"]
    return {
        "what": f"{page.what} ({page.path})" if not is_baseline else f"{page.what} (baseline, {page.path})",
        "measured_s": load["p99"],
        "measured": measured,
        "baseline": "" if is_baseline else "signed-in view p99",
        "baseline_s": None if is_baseline or baseline is None else baseline["p99"],
        "ratio": ratio,
        "queries": queries,
        "goal": "" if is_baseline else f"p99 < {PAGE_GOAL_S * 1000:.0f} ms",
        "met": None if is_baseline else load["p99"] < PAGE_GOAL_S and not load["non_2xx_3xx"],
        "notes": "; ".join(notes),
    }


def measure_pages(log=print) -> list[dict[str, object]]:
    """One row per page; a page that cannot be measured is a "not measured" row with why."""
    if shutil.which("wrk") is None:
        return [not_measured("pages", "wrk is not installed (apt-get install wrk)")]
    rows: list[dict[str, object]] = []
    sessions = make_sessions()
    try:
        measured = pages()
        with Gunicorn() as server:
            baseline = None
            for page in measured:
                session = sessions[page.who]
                try:
                    alone = []
                    for _ in range(2 * WORKERS):  # each worker renders the page once before timing
                        started = time.perf_counter()
                        status, _body = _get(server.port, page.path, session)
                        alone.append(time.perf_counter() - started)
                        if status != 200:
                            raise RuntimeError(f"answered {status}, not 200. {server.errors()}")
                    queries = count_queries(page, session)
                    load = wrk(server.port, page.path, session, seconds=load_seconds(min(alone)))
                    load["alone_s"] = min(alone)
                except (RuntimeError, subprocess.SubprocessError, ValueError, OSError) as error:
                    if server.process is not None and server.process.poll() is not None:
                        raise RuntimeError(f"gunicorn stopped: {server.errors()}") from error
                    rows.append(not_measured(page.what, str(error), f"p99 < {PAGE_GOAL_S * 1000:.0f} ms"))
                    continue
                if page.what == BASELINE:
                    baseline = load
                row = page_row(page, load, queries, baseline)
                log(f"  {row['what']}: {row['measured']}, {queries} queries")
                rows.append(row)
    finally:
        drop_sessions(sessions)
    return rows
