"""A real Celery worker process on Redis runs the portal's tasks and returns their results."""

import pytest

pytestmark = pytest.mark.celery_worker


def test_a_real_worker_on_redis_returns_a_task_result(celery_worker_process):
    from npq_portal.celery import ping

    result = ping.apply_async(args=["hello from the test"], queue=celery_worker_process["queue"])
    assert result.get(timeout=60) == "hello from the test"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_worker_reads_and_writes_the_test_database(celery_worker_process):
    from datetime import timedelta

    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from accounts.tasks import clear_expired_sessions

    expired = SessionStore()
    expired.create()
    Session.objects.filter(session_key=expired.session_key).update(
        expire_date=timezone.now() - timedelta(days=1)
    )
    live = SessionStore()
    live.create()

    result = clear_expired_sessions.apply_async(queue=celery_worker_process["queue"])
    assert result.get(timeout=60) == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]
