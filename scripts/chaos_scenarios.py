"""What a scenario of the chaos trial (scripts/chaos.py) sees: a clean slate before it, the
workers' state through Celery's remote control, the reminders recorded and settled, the messages
the sink accepted counted per reminder due; and, at the end, the job runs and imports left
running and the report.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import timedelta

from scripts.chaos_setup import JOB, Outcome, TrialSetup, say
from tests.faults import children, wait_until


class TrialScenarios(TrialSetup):
    # --- What a scenario sees --------------------------------------------------------------------

    def reset(self) -> None:
        """A clean slate: the last scenario's notifications and runs go, so the job finds every
        reminder due again."""
        from notifications.models import JobRun, Notification

        self.count_left_running(idle=self.quiet())
        Notification.objects.all().delete()
        JobRun.objects.all().delete()
        self.sink.clear()
        self.sink.latency = 0.0
        self.sink.refusing = False

    def active(self) -> dict:
        """What each worker has in hand (Celery's remote control); {} when the broker is away."""
        from npq_portal.celery import app
        from tests.conftest import reset_celery_connections

        try:
            return app.control.inspect(timeout=1.0).active() or {}
        except Exception:  # a broker restarted under this client: connect afresh next time
            reset_celery_connections(app)
            return {}

    def quiet(self, timeout: float = 60) -> bool:
        """Wait for the workers to have nothing in hand (what the last scenario left running)."""

        def idle() -> bool:
            active = self.active()
            return len(active) == len(self.workers) and not any(active.values())

        try:
            wait_until(idle, timeout=timeout, what="the workers to be idle", every=0.5)
        except TimeoutError:
            say("the workers were still busy; going on")
            return False
        return True

    def recorded(self) -> int:
        from notifications.models import Notification

        return Notification.objects.filter(kind=JOB).count()

    def settled(self) -> bool:
        """The job finished and every reminder it recorded is sent or given up."""
        from notifications.models import JobRun, Notification

        finished = JobRun.objects.filter(job=JOB, finished_at__isnull=False, error="", skipped_overlap=False)
        unsettled = Notification.objects.filter(kind=JOB).exclude(status__in=["sent", "given_up"])
        return finished.exists() and not unsettled.exists()

    def run_job(self):
        from notifications.tasks import run_scheduled_job

        return run_scheduled_job.apply_async(args=[JOB])

    def job_child(self) -> int | None:
        """The pid of the worker child running the job (Celery's remote control says)."""
        return self.running("notifications.tasks.run_scheduled_job", [JOB])

    def running(self, task_name: str, args: list | None = None) -> int | None:
        for tasks in self.active().values():
            for task in tasks:
                if task["name"] == task_name and (args is None or task["args"] == args):
                    return task.get("worker_pid")
        return None

    def all_children(self) -> list[int]:
        return [pid for worker in self.workers for pid in children(worker.pid)]

    def terminate_sessions(self) -> int:
        """pg_terminate_backend on every session of the trial database but this one."""
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            return cursor.fetchone()[0]

    def outcome(self, scenario: str, note: str) -> Outcome:
        copies: dict[str, list[str]] = defaultdict(list)
        for accepted in self.sink.accepted:
            for recipient in accepted.recipients:
                if recipient.lower() in self.expected:
                    copies[recipient.lower()].append(accepted.message_id)
        delivered = len(copies)
        duplicated = sum(len(ids) - 1 for ids in copies.values())
        same = all(len(set(ids)) == 1 for ids in copies.values())
        return Outcome(
            scenario, len(self.expected), delivered, duplicated, len(self.expected) - delivered, same, note
        )

    def scenario(self, name: str, fault, *, timeout: float = 180) -> Outcome:
        say(f"scenario: {name}")
        self.reset()
        started = time.monotonic()
        self.run_job()
        note = fault() or ""
        try:
            wait_until(self.settled, timeout=timeout, what=f"{name}: every reminder sent", every=0.5)
            time.sleep(1)  # a straggler (a duplicate) would arrive now
        except TimeoutError as exc:
            note = f"{note}; {exc}".strip("; ")
        outcome = self.outcome(name, note)
        say(
            f"  {outcome.delivered} delivered, {outcome.duplicated} duplicated, {outcome.lost} lost "
            f"in {time.monotonic() - started:.0f} s {('(' + note + ')') if note else ''}"
        )
        self.outcomes.append(outcome)
        return outcome

    # --- The end ---------------------------------------------------------------------------------

    def count_left_running(self, *, idle: bool) -> None:
        """Job runs and imports still open once the sweeper has marked the runs whose worker died
        (as it does past the task time limit), before the next scenario clears them. Only when
        the workers are idle: an open run is then one whose worker was killed."""
        from django.conf import settings
        from django.utils import timezone

        from funding.models import ImportRun
        from notifications.models import JobRun
        from notifications.services import job_runs_close_abandoned

        if idle:
            self.closed += job_runs_close_abandoned(
                now=timezone.now() + timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 61)
            )
        self.jobs_running += JobRun.objects.filter(finished_at__isnull=True, error="").count()
        self.imports_running = ImportRun.objects.filter(status=ImportRun.Status.RUNNING).count()

    def report(self) -> bool:
        self.count_left_running(idle=self.quiet())
        jobs, imports, closed = self.jobs_running, self.imports_running, self.closed
        lines = [
            "",
            "| scenario | what happened | due | delivered | duplicated | lost |",
            "|---|---|---|---|---|---|",
        ]
        for o in self.outcomes:
            lines.append(f"| {o.scenario} | {o.note} | {o.due} | {o.delivered} | {o.duplicated} | {o.lost} |")
        duplicated = sum(o.duplicated for o in self.outcomes)
        mixed = [o.scenario for o in self.outcomes if not o.same_message_id]
        lines += [
            "",
            "(the tally: due = tallies, delivered = written fresh by the retried run, lost = stale;"
            " the import: due = rows in the file, delivered = rows loaded)",
            f"every duplicate carried its first copy's Message-ID: {'no, in ' + ', '.join(mixed) if mixed else 'yes'}"
            f" ({duplicated} duplicates)",
            f"imports/jobs left running: {imports + jobs} "
            f"({closed} runs whose worker was killed marked 'Did not finish' by the sweeper)",
        ]
        print("\n".join(lines), flush=True)
        return all(o.lost == 0 and o.same_message_id for o in self.outcomes) and imports + jobs == 0
