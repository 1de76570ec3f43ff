"""The waiting list never loses an offer: freed places are recorded with the withdrawal, offered by
a retried job and a periodic sweep, held for the first in line, in one lock order, and nobody is
accepted without a group when the course has groups (issue: nothing lost under faults, part 4)."""

import threading

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse

from applications.models import Application, Transition
from applications.services import (
    ApplicationError,
    application_accept,
    application_waitlist,
    waiting_lists_offer,
)
from applications.tasks import offer_freed_places
from programmes.models import FreedPlace, Participant
from programmes.services import participant_withdraw
from tests.conftest import need
from tests.factories import (
    ApplicationFactory,
    CourseFactory,
    GroupFactory,
    HubStaffFactory,
    UserFactory,
)

S = Application.Status


def endorsed(course, **kwargs) -> Application:
    application = ApplicationFactory(course=course, **kwargs)
    application.trn = "1234567"
    application.full_name = application.answers["full_name"]
    application.save()
    Application.objects.filter(pk=application.pk).update(status=S.ENDORSED)
    return Application.objects.get(pk=application.pk)


def full_course_with_queue(*, places: int = 1, waiting: int = 2, capacity: int = 10):
    """A course whose funded places are all taken, with ``waiting`` people on its waiting list."""
    course = CourseFactory(funded_places=places)
    GroupFactory(course=course, capacity=capacity, name="Group A")
    staff = UserFactory()
    accepted = [application_accept(application=endorsed(course), by=staff) for _ in range(places)]
    queue = [application_waitlist(application=endorsed(course), by=staff) for _ in range(waiting)]
    return course, accepted, queue


@pytest.mark.django_db
def test_a_freed_place_is_recorded_with_the_withdrawal_and_the_sweep_offers_it_if_the_job_never_ran(
    django_capture_on_commit_callbacks,
):
    course, (holder,), (first, second) = full_course_with_queue()
    # The process dies right after the withdrawal commits: its after-commit offer never runs.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        participant_withdraw(participant=holder.participant, reason="personal-reason-moving-school")
    assert callbacks  # the offer would have been queued after commit
    freed = FreedPlace.objects.get(course=course)
    assert freed.settled_at is None and freed.participant_id == holder.participant_id
    first.refresh_from_db()
    assert first.status == S.WAITLISTED

    assert waiting_lists_offer() == 1  # the periodic sweep
    first.refresh_from_db()
    second.refresh_from_db()
    freed.refresh_from_db()
    assert first.status == S.ACCEPTED and first.participant.group.name == "Group A"
    assert second.status == S.WAITLISTED
    assert freed.settled_at is not None and f"NPQ-{first.pk:06d}" in freed.outcome
    # Run again (a second sweep, a redelivered job): nothing more happens.
    assert waiting_lists_offer() == 0
    assert offer_freed_places.apply(args=[course.pk]).get() == 0


@pytest.mark.django_db
def test_the_withdrawal_stands_when_the_offer_cannot_be_queued(
    django_capture_on_commit_callbacks, monkeypatch
):
    course, (holder,), (first, _) = full_course_with_queue()

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(offer_freed_places, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        participant_withdraw(participant=holder.participant, reason="personal-reason-moving-school")
    holder.participant.refresh_from_db()
    assert holder.participant.status == Participant.Status.WITHDRAWN
    assert FreedPlace.objects.filter(course=course, settled_at__isnull=True).count() == 1
    assert waiting_lists_offer() == 1
    first.refresh_from_db()
    assert first.status == S.ACCEPTED


@pytest.mark.django_db
def test_the_offer_job_is_retried_on_outage_and_in_the_beat_schedule():
    from celery.exceptions import Retry  # noqa: F401 - the task retries via autoretry_for
    from django.db import OperationalError

    assert OperationalError in offer_freed_places.autoretry_for
    entry = settings.CELERY_BEAT_SCHEDULE["offer-waiting-lists"]
    assert entry["task"] == "applications.tasks.offer_waiting_lists"


@pytest.mark.django_db
def test_free_places_are_held_for_the_first_in_line(django_capture_on_commit_callbacks):
    course, (holder,), (first, second) = full_course_with_queue()
    outsider = endorsed(course)
    staff = UserFactory()
    # A place frees but its offer has not run yet: staff cannot give it to someone else unasked.
    with django_capture_on_commit_callbacks(execute=False):
        participant_withdraw(participant=holder.participant, reason="personal-reason-moving-school")
    with pytest.raises(
        ApplicationError, match=rf"2 people are on the waiting list.*NPQ-{first.pk:06d} is first"
    ):
        application_accept(application=outsider, by=staff)
    with pytest.raises(ApplicationError, match="first"):
        application_accept(application=second, by=staff)  # second in line, not first
    assert not Participant.objects.filter(user=outsider.user).exists()

    # With a reason, staff may accept out of turn; the history says so.
    application_accept(application=second, by=staff, out_of_turn_reason="Their school's only SENCO")
    second.refresh_from_db()
    assert second.status == S.ACCEPTED
    note = Transition.objects.get(application=second, to_status=S.ACCEPTED).note
    assert note == f"Accepted out of turn, ahead of NPQ-{first.pk:06d}: Their school's only SENCO"
    # The place went; the freed place is settled by the next sweep as having no free place left.
    assert waiting_lists_offer() == 0
    first.refresh_from_db()
    assert first.status == S.WAITLISTED
    assert (
        FreedPlace.objects.get(course=course).outcome == "Not offered: the course has no free funded place."
    )


@pytest.mark.django_db
def test_the_first_in_line_is_accepted_without_a_reason():
    course, _, (first, _) = full_course_with_queue()
    course.funded_places = 2
    course.save()
    application_accept(application=first, by=UserFactory())
    first.refresh_from_db()
    assert first.status == S.ACCEPTED


@pytest.mark.django_db
def test_accepting_when_every_group_is_full_is_refused_and_a_course_without_groups_lists_a_need():
    course = CourseFactory(funded_places=5)
    GroupFactory(course=course, capacity=1, name="Group A")
    staff = UserFactory()
    application_accept(application=endorsed(course), by=staff)
    second = endorsed(course)
    with pytest.raises(ApplicationError, match=r"Every group of .* is full"):
        application_accept(application=second, by=staff)
    second.refresh_from_db()
    assert second.status == S.ENDORSED and second.participant is None

    # A course whose groups are not set up yet: accepted, and listed as needing a group.
    early = CourseFactory(funded_places=5)
    application = application_accept(application=endorsed(early), by=staff)
    assert application.participant.group is None


@pytest.mark.django_db
def test_an_offer_blocked_by_full_groups_stays_open_until_there_is_room(django_capture_on_commit_callbacks):
    course, (holder,), (first, _) = full_course_with_queue(places=1, capacity=1)
    course.funded_places = 2  # a second funded place, but the only group is full
    course.save()
    with django_capture_on_commit_callbacks(execute=True):
        participant_withdraw(participant=holder.participant, reason="personal-reason-moving-school")
    # The withdrawal freed the group place too, so the first in line got it at once...
    first.refresh_from_db()
    assert first.status == S.ACCEPTED
    # ...and the second place cannot be given: the group is full again. The offer stays open.
    assert waiting_lists_offer() == 0
    freed = FreedPlace.objects.get(course=course)
    assert freed.settled_at is not None  # the withdrawal's own place went to the first in line
    GroupFactory(course=course, capacity=5, name="Group B")
    assert waiting_lists_offer() == 1  # room now: the next in line is offered


@pytest.mark.django_db
def test_staff_see_who_needs_a_group_and_the_freed_places_of_their_hub_only(client):
    early = CourseFactory(funded_places=5)
    needing = application_accept(application=endorsed(early), by=UserFactory())
    elsewhere = CourseFactory(funded_places=5)
    application_accept(application=endorsed(elsewhere), by=UserFactory())
    client.force_login(HubStaffFactory(hub=early.cohort.hub))
    response = client.get(reverse("admin:programmes_participant_changelist"), {"group_place": "needs"})
    assert list(response.context["cl"].result_list) == [needing.participant]
    assert "Needs a group" in response.content.decode()

    course, (holder,), _ = full_course_with_queue()
    participant_withdraw(participant=holder.participant, reason="personal-reason-moving-school")
    client.force_login(HubStaffFactory(hub=course.cohort.hub))
    response = client.get(reverse("admin:programmes_freedplace_changelist"), {"offer": "open"})
    assert response.status_code == 200
    assert [f.course_id for f in response.context["cl"].result_list] == [course.pk]
    client.force_login(HubStaffFactory(hub=early.cohort.hub))
    response = client.get(reverse("admin:programmes_freedplace_changelist"))
    assert list(response.context["cl"].result_list) == []


@pytest.mark.django_db
def test_the_accept_page_asks_for_a_reason_only_when_someone_is_ahead(client):
    course, _, (first, second) = full_course_with_queue()
    course.funded_places = 3
    course.save()
    client.force_login(HubStaffFactory(hub=course.cohort.hub))
    url = reverse("admin:applications_application_accept", args=[second.pk])
    page = client.get(url).content.decode()
    assert "Reason for accepting out of turn" in page
    response = client.post(url, {"group": "", "out_of_turn_reason": ""})
    assert "free places are held for them in turn" in response.content.decode()
    # Next to the field that answers it, not only at the top of the page.
    assert "free places are held for them in turn" in str(
        response.context["form"].errors["out_of_turn_reason"]
    )
    second.refresh_from_db()
    assert second.status == S.WAITLISTED
    response = client.post(url, {"group": "", "out_of_turn_reason": "Deputy head starting in January"})
    assert response.status_code == 302
    # The first in line is not asked for a reason.
    page = client.get(reverse("admin:applications_application_accept", args=[first.pk])).content.decode()
    assert "Reason for accepting out of turn" not in page


@pytest.mark.django_db
def test_bulk_accept_takes_the_waiting_list_in_its_order(client):
    course, _, queue = full_course_with_queue(waiting=3)
    course.funded_places = 3
    course.save()
    client.force_login(HubStaffFactory(hub=course.cohort.hub))
    client.post(
        reverse("admin:applications_application_changelist"),
        {"action": "accept_selected", "_selected_action": [a.pk for a in reversed(queue)]},
    )
    statuses = [Application.objects.get(pk=a.pk).status for a in queue]
    assert statuses == [S.ACCEPTED, S.ACCEPTED, S.WAITLISTED]


def _run_at_once(work: list) -> list[str]:
    barrier = threading.Barrier(len(work))
    outcomes: list[str] = []

    def run(job):
        try:
            barrier.wait()
            outcomes.append(job())
        except ApplicationError as exc:
            outcomes.append(f"refused: {exc}")
        except Exception as exc:  # a deadlock would surface here
            outcomes.append(f"error: {type(exc).__name__}: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_accepts_into_full_groups_leave_nobody_groupless():
    need(connection.vendor == "postgresql", "PostgreSQL (row locks)")
    course = CourseFactory(funded_places=30)
    GroupFactory(course=course, capacity=5, name="Group A")
    GroupFactory(course=course, capacity=5, name="Group B")
    staff = UserFactory()
    applications = [endorsed(course) for _ in range(12)]
    outcomes = _run_at_once(
        [lambda a=a: application_accept(application=a, by=staff) and "accepted" for a in applications]
    )
    assert not [o for o in outcomes if o.startswith("error")], outcomes
    assert outcomes.count("accepted") == 10
    live = Participant.objects.filter(course=course)
    assert live.count() == 10 and not live.filter(group__isnull=True).exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_withdrawals_offers_and_staff_accepts_at_once_never_deadlock_and_the_queue_gets_the_places():
    need(connection.vendor == "postgresql", "PostgreSQL (row locks)")
    course, accepted, queue = full_course_with_queue(places=3, waiting=3)
    outsiders = [endorsed(course) for _ in range(3)]
    staff = UserFactory()
    work = [
        *[
            lambda a=a: (
                participant_withdraw(participant=a.participant, reason="personal-reason-moving-school")
                and "withdrawn"
            )
            for a in accepted
        ],
        *[lambda a=a: application_accept(application=a, by=staff) and "accepted" for a in outsiders],
        *[lambda: str(waiting_lists_offer()) for _ in range(2)],
    ]
    outcomes = _run_at_once(work)
    assert not [o for o in outcomes if o.startswith("error")], outcomes
    waiting_lists_offer()  # whatever the interleaving, the sweep settles the rest
    assert [Application.objects.get(pk=a.pk).status for a in queue] == [S.ACCEPTED] * 3
    assert [Application.objects.get(pk=a.pk).status for a in outsiders] == [S.ENDORSED] * 3
    assert not FreedPlace.objects.filter(course=course, settled_at__isnull=True).exists()


@pytest.mark.django_db
def test_a_place_paid_by_the_school_takes_no_held_place_and_needs_no_reason():
    course, _, (first, _) = full_course_with_queue()
    outsider = endorsed(course)
    application_accept(application=outsider, by=UserFactory(), funded_place=False)
    outsider.refresh_from_db()
    first.refresh_from_db()
    assert outsider.status == S.ACCEPTED and outsider.funded_place is False
    assert first.status == S.WAITLISTED  # still first in line for the next funded place
