from celery import shared_task

from notifications.services import RETRY_ON_OUTAGE, run_job

from .services import export_build


@shared_task(name="privacy.tasks.build_subject_access_export", **RETRY_ON_OUTAGE)
def build_subject_access_export(export_id: int) -> str:
    """Make one copy of a person's data. A second delivery of a finished copy does nothing; one
    after a worker died starts the copy afresh."""
    return export_build(export_id).status


@shared_task(name="privacy.tasks.apply_retention_schedule", **RETRY_ON_OUTAGE)
def apply_retention_schedule() -> int:
    """Nightly: delete or anonymise what the retention schedule says is due, in batches. Safe to
    run twice (what is done is not due any more); recorded in Job runs and Retention runs."""
    from .retention import retention_apply

    return run_job("apply_retention_schedule", lambda today: retention_apply()).sent
