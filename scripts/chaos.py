"""`make chaos`: the portal under faults, with real processes, bounded in time.

It starts its own Redis (a free port, AOF with fsync on every write), an SMTP sink that logs every
message it accepts, a PostgreSQL database of its own (created on the server of CHAOS_DATABASE_URL
or DATABASE_URL, dropped at the end), two prefork Celery workers and Celery beat running the
outbox sweeper. It makes hundreds of reminders due (``--reminders``, 700 by default: applications
on day 4 of 5, reminded by the `registration_deadline` job) and, for each scenario, deletes what
the last one recorded, runs the job and injects the fault while the job runs and mail is sent:

- none (a baseline);
- repeated kill -9 of worker children while they send (a mail server that takes 20 ms a message);
- kill -9 of the child running the job, 8 times;
- the broker (Redis) killed for 8 seconds;
- the mail server refusing every connection for 30 seconds (about 30 minutes at the production
  backoff: the workers retry after 1 s instead of 60 s);
- every database session of the workers terminated 3 times while the job runs;
- the nightly engagement tally's session terminated twice (it waits on a lock held here);
- a 30,000-row GIAS import's child killed during its load (waiting on a table lock held here).

The workers run with short timings (claims of 10 s, retries from 1 s, the sweeper every 2 s, a
row's own delivery given 5 s) so that what takes minutes in production takes seconds. Each
scenario counts, per reminder due, the messages the sink accepted: delivered (at least one),
duplicated (copies beyond the first; each should carry the same Message-ID) and lost (none).
It ends with the job runs and imports left running. Exit status 1 if anything was lost or left
running. See docs/reliability.md.

The trial's services and database are set up in scripts/chaos_setup.py, what a scenario sees and
the report in scripts/chaos_scenarios.py, the faults in scripts/chaos_faults.py (its ``Trial``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.chaos_faults import Trial  # noqa: E402
from scripts.chaos_setup import say  # noqa: E402
from tests.faults import RedisServer  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reminders", type=int, default=700, help="reminders due in each scenario")
    parser.add_argument("--logs", type=Path, default=None, help="a folder for the workers' logs")
    parser.add_argument(
        "--only", action="append", default=[], help="run only the scenarios whose name contains this"
    )
    parser.add_argument(
        "--keep-database",
        action="store_true",
        help="keep the trial database, and use the one kept by an earlier run (no migrating)",
    )
    args = parser.parse_args()
    if not RedisServer.available():
        sys.exit("make chaos needs redis-server (Debian: apt-get install redis-server)")
    logs = args.logs or Path(tempfile.mkdtemp(prefix="npq-chaos-"))
    logs.mkdir(parents=True, exist_ok=True)
    trial = Trial(reminders=args.reminders, logs=logs)
    began = time.monotonic()
    # The broker last: after Redis restarts, the workers no longer answer Celery's remote
    # control, which the kills use to find the child running the job or the import.
    scenarios = [
        ("no fault", trial.no_fault),
        ("kill -9 of worker children during sends", trial.kill_children_during_sends),
        ("kill -9 of the child running the job", trial.kill_the_job),
        ("kill -9 of the child running a GIAS import, during its load", None),
        ("SMTP down", trial.smtp_down),
        ("pg_terminate_backend during the job", trial.terminate_during_job),
        ("pg_terminate_backend during the nightly tally", None),
        ("broker (Redis) down", trial.broker_down),
    ]
    chosen = [(n, f) for n, f in scenarios if not args.only or any(o in n for o in args.only)]
    ok = False
    try:
        trial.start(reuse=args.keep_database and trial.database_exists())
        for name, fault in chosen:
            if fault is None:
                (trial.tally_scenario if "tally" in name else trial.import_scenario)()
            else:
                trial.scenario(name, fault)
        ok = trial.report()
    finally:
        trial.stop(keep_database=args.keep_database)
    say(f"done in {time.monotonic() - began:.0f} s; workers' logs in {logs}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
