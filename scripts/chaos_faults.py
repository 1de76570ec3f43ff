"""The faults of the chaos trial (scripts/chaos.py), each injected while the reminders job runs
and mail is sent, and the two scenarios of their own: the nightly tally's session terminated,
and a GIAS import's child killed during its load. ``Trial`` is the whole trial as
scripts/chaos.py runs it.
"""

from __future__ import annotations

import random
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from scripts.chaos_scenarios import TrialScenarios
from scripts.chaos_setup import JOB, Outcome, say
from tests.faults import kill9, wait_until


class Trial(TrialScenarios):
    # --- The faults ------------------------------------------------------------------------------

    def no_fault(self) -> str:
        return ""

    def kill_children_during_sends(self) -> str:
        self.sink.latency = 0.02
        kills = 0
        wait_until(lambda: len(self.sink.accepted) >= 20, timeout=120, what="sending to start")
        deadline = time.monotonic() + 90
        while (
            kills < 30 and len(self.sink.accepted) < len(self.expected) - 30 and time.monotonic() < deadline
        ):
            pool = self.all_children()
            if pool:
                kill9(random.choice(pool))
                kills += 1
            time.sleep(random.uniform(0.2, 0.5))
        return f"{kills} children killed"

    def kill_the_job(self) -> str:
        from notifications.models import JobRun

        kills, last = 0, 0
        deadline = time.monotonic() + 120
        finished = JobRun.objects.filter(job=JOB, finished_at__isnull=False, error="")
        while kills < 8 and time.monotonic() < deadline:
            try:
                wait_until(
                    lambda last=last: self.recorded() >= last + len(self.expected) // 12 or finished.exists(),
                    timeout=60,
                    what="the job to record more",
                    every=0.02,
                )
            except TimeoutError:
                break
            if finished.exists():
                break
            pid = self.job_child()
            if pid:
                kill9(pid)
                kills += 1
                last = self.recorded()
        return f"the job's child killed {kills} times"

    def broker_down(self) -> str:
        wait_until(lambda: self.recorded() >= len(self.expected) // 4, timeout=60, what="the job to record")
        self.redis.kill()
        time.sleep(8)  # the outage itself
        self.redis.start()
        from npq_portal.celery import app
        from tests.conftest import reset_celery_connections

        reset_celery_connections(app)  # this process's own client, as a restarted web process would
        return "Redis killed (kill -9) for 8 s"

    def smtp_down(self) -> str:
        self.sink.refusing = True
        time.sleep(30)  # the outage itself
        self.sink.refusing = False
        return "mail server refused for 30 s"

    def terminate_during_job(self) -> str:
        terminated = 0
        for share in (0.2, 0.5, 0.8):
            try:
                wait_until(
                    lambda share=share: self.recorded() >= len(self.expected) * share,
                    timeout=90,
                    what="the job to record",
                    every=0.02,
                )
            except TimeoutError:
                break
            terminated += self.terminate_sessions()
        return f"{terminated} sessions terminated in 3 rounds"

    def tally_scenario(self) -> Outcome:
        """The nightly tally, its session terminated twice while it waits for a lock held here;
        retried, the tallies are those of a clean run (none stale)."""
        import psycopg
        from django.db import connection
        from django.utils import timezone

        from engagement.models import EngagementTally
        from engagement.tally import TALLY_LOCK_SPACE, tally_courses
        from engagement.tasks import tally_all_courses

        name = "pg_terminate_backend during the nightly tally, 2 times"
        say(f"scenario: {name}")
        self.reset()
        started = time.monotonic()
        EngagementTally.objects.all().delete()
        tally_courses(course_ids=[self.tally_course_id])
        fresh = self.tallies()
        # Last night's tallies, now out of date: the run must replace every one.
        EngagementTally.objects.update(
            percent=0, on_track=False, computed_at=timezone.now() - timedelta(days=1)
        )
        night = timezone.now()
        with psycopg.connect(self.db_url, autocommit=True) as holder:
            holder.execute("SELECT pg_advisory_lock(%s, %s)", [TALLY_LOCK_SPACE, self.tally_course_id])
            tally_all_courses.apply_async()
            terminated: list[int] = []
            for _ in range(2):
                pid = wait_until(
                    lambda: self.waiting_backend(holder.info.backend_pid, *terminated),
                    timeout=60,
                    what="the tally (or its retry) to wait",
                )
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
                terminated.append(pid)
            holder.execute("SELECT pg_advisory_unlock(%s, %s)", [TALLY_LOCK_SPACE, self.tally_course_id])
        from notifications.models import JobRun

        note = f"{len(terminated)} sessions terminated"
        try:
            wait_until(
                lambda: JobRun.objects.filter(
                    job="tally_all_courses", error="", finished_at__isnull=False
                ).exists(),
                timeout=120,
                what="the tally to be retried",
            )
        except TimeoutError as exc:
            note += f"; {exc}"
        after = self.tallies()
        # Stale: not written by the retried run, or not what a clean run writes.
        stale = sum(
            1
            for key, values in fresh.items()
            if key not in after or after[key][:-1] != values[:-1] or after[key][-1] < night
        )
        runs = JobRun.objects.filter(job="tally_all_courses")
        note += f"; {runs.exclude(error='').count()} runs aborted, then retried"
        outcome = Outcome(name, len(fresh), len(fresh) - stale, 0, stale, True, note)
        say(f"  {len(fresh)} tallies, {stale} stale in {time.monotonic() - started:.0f} s ({note})")
        self.outcomes.append(outcome)
        return outcome

    def import_scenario(self, rows: int = 30_000) -> Outcome:
        """A GIAS import whose worker child is killed during its load (the one transaction at the
        end, made to wait on a table lock held here, so the kill lands there): the task handed
        back finds the killed child's session still holding the run, looks again, and takes the
        run over once that session ends, loading every row."""
        import psycopg
        from django.core.files.base import ContentFile

        from bench.imports_gias import gias_file
        from funding.models import ImportRun, Institution
        from funding.tasks import run_import

        name = "kill -9 of the child running a GIAS import, during its load"
        say(f"scenario: {name}")
        self.reset()
        started = time.monotonic()
        Institution.objects.all().delete()
        path = Path(tempfile.mkdtemp(prefix="npq-chaos-gias-")) / "gias.csv"
        gias_file(path, rows)
        run = ImportRun(kind=ImportRun.Kind.GIAS)
        run.file.save("gias.csv", ContentFile(path.read_bytes()), save=True)
        note = ""
        with psycopg.connect(self.db_url) as holder:
            holder.execute("LOCK TABLE funding_institution IN SHARE MODE")
            task = run_import.delay(run.pk)
            try:
                wait_until(
                    lambda: self.waiting_backend(holder.info.backend_pid),
                    timeout=180,
                    what="the import's load",
                    every=0.2,
                )
                pid = self.running("funding.tasks.run_import")
                if pid:
                    kill9(pid)
                note = "the import's child killed during its load" if pid else "not killed"
                wait_until(
                    lambda: task.state == "RETRY", timeout=60, what="the task to look again", every=0.2
                )
                note += "; handed back, it looked again"
            except TimeoutError as exc:
                note += f"; {exc}"
            holder.rollback()
        try:
            wait_until(
                lambda: ImportRun.objects.get(pk=run.pk).status != "running",
                timeout=180,
                what="the import to finish",
                every=0.5,
            )
        except TimeoutError as exc:
            note += f"; {exc}"
        run.refresh_from_db()
        loaded = Institution.objects.filter(urn__gt=100000, urn__lte=100000 + rows).count()
        note += f"; ended {run.get_status_display().lower()} after {run.attempts} starts"
        outcome = Outcome(name, rows, loaded, 0, rows - loaded, True, note)
        say(f"  {loaded} of {rows} rows loaded in {time.monotonic() - started:.0f} s ({note})")
        self.outcomes.append(outcome)
        return outcome

    def tallies(self) -> dict:
        from engagement.models import EngagementTally

        return {
            row[0]: row[1:]
            for row in EngagementTally.objects.values_list(
                "participant_id", "done_weight", "due_weight", "percent", "on_track", "computed_at"
            )
        }

    def waiting_backend(self, *exclude: int) -> int | None:
        """A session of the trial database waiting on a lock (not this one, nor ``exclude``)."""
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid() AND NOT (pid = ANY(%s))",
                [list(exclude)],
            )
            row = cursor.fetchone()
        return row[0] if row else None
