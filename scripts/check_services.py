"""Before the suite in CI: are PostgreSQL and Redis there? Fail with a clear message if not.

Outside CI (CI unset) this only reports what the suite will use.
"""

import os
import socket
import sys
from urllib.parse import urlparse

IN_CI = os.environ.get("CI", "").lower() == "true"
HELP = "Start commands for this machine's services are in /work/.library/env/ (see README)."


def reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=2
        ):
            return True
    except OSError:
        return False


def main() -> int:
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    problems = []
    if IN_CI:
        if not database_url.startswith(("postgres://", "postgresql://")):
            problems.append("DATABASE_URL must point at PostgreSQL in CI")
        elif not reachable(database_url, 5432):
            problems.append(f"PostgreSQL is not reachable at {urlparse(database_url).netloc}")
        if not reachable(redis_url, 6379):
            problems.append(f"Redis is not reachable at {urlparse(redis_url).netloc}")
    if problems:
        for problem in problems:
            print(f"check_services: {problem}", file=sys.stderr)
        print(f"check_services: {HELP}", file=sys.stderr)
        return 1
    print(
        "check_services: database "
        + (urlparse(database_url).scheme if database_url else "sqlite (embedded default)")
        + ", redis "
        + ("up" if reachable(redis_url, 6379) else "down (worker tests skipped)")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
