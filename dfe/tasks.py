from celery import shared_task

from notifications.services import RETRY_ON_OUTAGE, run_job

from .client import DfeUnavailable, DfeUncertain

# A change whose send failed (DfE away, or no answer) is retried with backoff; after an uncertain
# result the retry reads DfE back before sending anything (dfe/writes.py).
RETRY_ON_DFE = {
    **RETRY_ON_OUTAGE,
    "autoretry_for": (*RETRY_ON_OUTAGE["autoretry_for"], DfeUnavailable, DfeUncertain),
}


@shared_task(name="dfe.tasks.send_change", ignore_result=True, **RETRY_ON_DFE)
def send_change(write_id: int) -> None:
    from .writes import send_write

    send_write(write_id)


@shared_task(name="dfe.tasks.sync_applications", **RETRY_ON_OUTAGE)
def sync_applications() -> int:
    """Every 15 minutes: the lead providers' applications changed at DfE (nothing when the link is off)."""
    from .sync import sync_all

    return run_job("sync_applications", sync_all).sent


@shared_task(name="dfe.tasks.send_changes", **RETRY_ON_OUTAGE)
def send_changes() -> int:
    """Every 5 minutes: changes for DfE still open (never queued, uncertain, or DfE was away)."""
    from .writes import send_open_writes

    return run_job("send_changes", send_open_writes).sent
