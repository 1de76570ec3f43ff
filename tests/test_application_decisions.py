"""Hub decisions in admin: scoped queue, accept within capacity (also concurrently), waitlist, reject."""

import threading

import pytest
from django.db import connection
from django.urls import reverse

from applications.models import Application
from applications.services import ApplicationError, application_accept
from funding.models import Institution
from tests.conftest import need
from tests.factories import ApplicationFactory, CourseFactory, GroupFactory, HubStaffFactory, UserFactory

S = Application.Status


def endorsed_application(course, **kwargs) -> Application:
    """An endorsed application, put straight into that state (the journey is tested elsewhere)."""
    application = ApplicationFactory(course=course, **kwargs)
    application.trn = "1234567"
    application.full_name = application.answers["full_name"]
    application.save()
    Application.objects.filter(pk=application.pk).update(status=S.ENDORSED)
    return Application.objects.get(pk=application.pk)


@pytest.fixture
def course(db):
    Institution.objects.create(
        urn=137001, name="Northfield Academy", establishment_type_code=28, status="Open"
    )
    course = CourseFactory(funded_places=2)
    GroupFactory(course=course, capacity=10, name="Group A")
    return course


@pytest.mark.django_db
def test_queue_is_scoped_to_the_hub(client, course):
    mine = endorsed_application(course)
    theirs = endorsed_application(CourseFactory())
    client.force_login(HubStaffFactory(hub=course.cohort.hub))
    listed = list(client.get(reverse("admin:applications_application_changelist")).context["cl"].result_list)
    assert listed == [mine]
    assert client.get(reverse("admin:applications_application_change", args=[theirs.pk])).status_code == 302
    assert (
        client.post(reverse("admin:applications_application_accept", args=[theirs.pk]), {}).status_code == 404
    )
    theirs.refresh_from_db()
    assert theirs.status == S.ENDORSED


@pytest.mark.django_db
def test_bulk_accept_fills_the_places_and_reports_the_rest(client, course):
    applications = [endorsed_application(course) for _ in range(3)]
    client.force_login(HubStaffFactory(hub=course.cohort.hub))
    response = client.post(
        reverse("admin:applications_application_changelist"),
        {"action": "accept_selected", "_selected_action": [a.pk for a in applications]},
        follow=True,
    )
    statuses = [Application.objects.get(pk=a.pk).status for a in applications]
    assert statuses == [S.ACCEPTED, S.ACCEPTED, S.ENDORSED]
    text = response.content.decode()
    assert "2 applications accepted." in text and "is full (2 places)" in text


@pytest.mark.django_db
def test_accept_into_a_chosen_group_and_reject_with_a_reason(client, course):
    group_b = GroupFactory(course=course, capacity=5, name="Group B")
    first, second = endorsed_application(course), endorsed_application(course)
    client.force_login(HubStaffFactory(hub=course.cohort.hub))
    client.post(reverse("admin:applications_application_accept", args=[first.pk]), {"group": group_b.pk})
    first.refresh_from_db()
    assert first.status == S.ACCEPTED and first.participant.group == group_b
    response = client.post(reverse("admin:applications_application_reject", args=[second.pk]), {"reason": ""})
    assert response.status_code == 200
    client.post(
        reverse("admin:applications_application_reject", args=[second.pk]),
        {"reason": "Role not suitable yet"},
    )
    second.refresh_from_db()
    assert second.status == S.REJECTED and second.decision_reason == "Role not suitable yet"


@pytest.mark.django_db
def test_waitlist_is_ordered(client, course):
    course.funded_places = 0
    course.save()
    applications = [endorsed_application(course) for _ in range(3)]
    client.force_login(HubStaffFactory(hub=course.cohort.hub))
    client.post(
        reverse("admin:applications_application_changelist"),
        {"action": "waitlist_selected", "_selected_action": [a.pk for a in reversed(applications)]},
    )
    positions = [Application.objects.get(pk=a.pk).waitlist_position for a in applications]
    assert positions == [1, 2, 3]  # in order of submission, whatever the order selected


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_accepts_never_exceed_capacity(course):
    need(connection.vendor == "postgresql", "PostgreSQL (row locks)")
    course.funded_places = 1
    course.save()
    applications = [endorsed_application(course) for _ in range(4)]
    staff = UserFactory()
    barrier = threading.Barrier(len(applications))
    outcomes: list[str] = []

    def accept(application):
        try:
            barrier.wait()
            application_accept(application=application, by=staff)
            outcomes.append("accepted")
        except ApplicationError:
            outcomes.append("full")
        finally:
            connection.close()  # each thread has its own connection; leave none open

    threads = [threading.Thread(target=accept, args=(a,)) for a in applications]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["accepted", "full", "full", "full"]
    assert Application.objects.filter(course=course, status=S.ACCEPTED).count() == 1
