import pytest

from tests.conftest import reset_celery_connections


@pytest.mark.django_db
def test_healthz_reports_database_and_eager_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "eager"}


@pytest.mark.django_db
def test_healthz_is_503_when_the_broker_is_unreachable(client, settings):
    from npq_portal.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    saved = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    reset_celery_connections(app)
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = saved
        reset_celery_connections(app)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["database"] == "ok"
    assert body["broker"].startswith("error: ")


@pytest.mark.django_db
def test_healthz_reports_a_reachable_redis_broker(client, settings, redis_url):
    from npq_portal.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    saved = app.conf.broker_url
    app.conf.broker_url = redis_url
    reset_celery_connections(app)
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = saved
        reset_celery_connections(app)
    assert response.status_code == 200
    assert response.json()["broker"] == "ok"


@pytest.mark.django_db
def test_healthz_is_503_when_the_database_fails(client, monkeypatch):
    from npq_portal import health

    def broken_cursor():
        raise RuntimeError("database down")

    monkeypatch.setattr(health.connection, "cursor", broken_cursor)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "error: RuntimeError"
