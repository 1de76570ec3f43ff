"""Application states through services only; endorsement links expire, work once, and only for the endorser."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from applications.models import Application, Employment, Endorsement, Transition
from applications.services import (
    TRANSITIONS,
    ApplicationError,
    EndorsementLinkError,
    application_accept,
    application_reject,
    application_submit,
    application_waitlist,
    application_withdraw,
    applications_expire_stale,
    employment_change_request,
    endorsement_decide,
    transition,
)
from funding.models import EligibilityListEntry, Institution
from programmes.models import Participant, Programme
from programmes.services import participant_withdraw
from tests.factories import (
    ApplicationFactory,
    CohortFactory,
    CourseFactory,
    GroupFactory,
    ParticipantFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
S = Application.Status


@pytest.fixture(autouse=True)
def _school():
    Institution.objects.create(
        urn=137001,
        name="Northfield Academy",
        establishment_type_code=28,
        la_code="886",
        number_of_pupils=900,
        status="Open",
    )


def token_from_last_email() -> str:
    return re.search(r"/endorse/([\w-]+)/", mail.outbox[-1].body).group(1)


def submitted(django_capture_on_commit_callbacks, **kwargs) -> tuple[Application, str]:
    application = ApplicationFactory(**kwargs)
    with django_capture_on_commit_callbacks(execute=True):
        application_submit(application=application, by=application.user)
    return Application.objects.get(pk=application.pk), token_from_last_email()


def verified(email: str):
    return UserFactory(email=email)


def test_submit_decides_funding_and_emails_the_endorser(django_capture_on_commit_callbacks):
    application, token = submitted(django_capture_on_commit_callbacks)
    assert application.status == S.AWAITING_ENDORSEMENT
    assert [(t.from_status, t.to_status) for t in application.transitions.all()] == [
        ("draft", "submitted"),
        ("submitted", "awaiting_endorsement"),
    ]
    assert application.transitions.first().by == application.user
    assert (
        application.funding_decision.reason == "ineligible_establishment_not_on_list"
    )  # 2025 round, not listed
    assert mail.outbox[-1].to == ["hana@school.example"]
    assert application.trn == "1234567" and application.institution_id == 137001
    assert Endorsement.objects.get().token_hash != token  # only a hash is stored


def test_incomplete_or_late_drafts_cannot_be_submitted():
    application = ApplicationFactory(answers={"in_england": "yes"})
    with pytest.raises(ApplicationError, match="Answer every question"):
        application_submit(application=application, by=application.user)
    late = ApplicationFactory(started_at=timezone.now() - timedelta(days=6))
    with pytest.raises(ApplicationError, match="time to complete"):
        application_submit(application=late, by=late.user)
    assert Transition.objects.count() == 0


@pytest.mark.parametrize("start", list(TRANSITIONS))
def test_every_transition_not_in_the_table_is_refused(start):
    application = ApplicationFactory()
    extra = {"waitlist_position": 1} if start == S.WAITLISTED else {}
    if start == S.ACCEPTED:
        extra["participant"] = ParticipantFactory(user=application.user, group__course=application.course)
    Application.objects.filter(pk=application.pk).update(status=start, **extra)
    application.refresh_from_db()
    for target in S.values:
        if target in TRANSITIONS[start]:
            continue
        with pytest.raises(ApplicationError, match="cannot become"):
            transition(application, target, by=None)
        application.refresh_from_db()
        assert application.status == start
    assert Transition.objects.count() == 0


def test_endorser_endorses_once_and_the_applicant_is_told(client, django_capture_on_commit_callbacks):
    application, token = submitted(django_capture_on_commit_callbacks)
    hana = verified("hana@school.example")
    url = reverse("endorsement", args=[token])
    # Not signed in: the page says who asked and links to signing in, coming back here after.
    assert f'href="{reverse("account_login")}?next={url}"' in client.get(url).content.decode()
    client.force_login(hana)
    page = client.get(url).content.decode()
    assert "Alice Adeyemi" in page and application.course.programme.name in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"decision": "endorse"})
    assert response.status_code == 200 and "You have endorsed the application" in response.content.decode()
    application.refresh_from_db()
    assert application.status == S.ENDORSED
    assert mail.outbox[-1].to == [application.user.email] and "endorsed" in mail.outbox[-1].subject
    assert Employment.objects.get(application=application).confirmed
    # The link works once.
    assert client.get(url).status_code == 404
    assert client.post(url, {"decision": "decline", "reason": "changed my mind"}).status_code == 404
    application.refresh_from_db()
    assert application.status == S.ENDORSED


def test_declining_needs_a_reason(client, django_capture_on_commit_callbacks):
    application, token = submitted(django_capture_on_commit_callbacks)
    client.force_login(verified("hana@school.example"))
    url = reverse("endorsement", args=[token])
    response = client.post(url, {"decision": "decline", "reason": ""})
    assert "Enter why you do not endorse the application" in response.content.decode()
    client.post(url, {"decision": "decline", "reason": "Not the right time for the school"})
    application.refresh_from_db()
    assert application.status == S.ENDORSEMENT_DECLINED
    assert application.transitions.last().note == "Not the right time for the school"


@pytest.mark.parametrize("who", ["applicant", "other_head", "unverified_hana", "staff"])
def test_nobody_else_can_endorse(client, django_capture_on_commit_callbacks, who):
    application, token = submitted(django_capture_on_commit_callbacks)
    user = {
        "applicant": lambda: application.user,
        "other_head": lambda: verified("oscar@other-school.example"),
        "unverified_hana": lambda: UserFactory(email="hana@school.example", verified=False),
        "staff": lambda: UserFactory(is_staff=True, is_superuser=True),
    }[who]()
    client.force_login(user)
    url = reverse("endorsement", args=[token])
    assert client.get(url).status_code == 403
    assert client.post(url, {"decision": "endorse"}).status_code == 403
    with pytest.raises(EndorsementLinkError):
        endorsement_decide(token=token, user=user, endorse=True)
    application.refresh_from_db()
    assert application.status == S.AWAITING_ENDORSEMENT


def test_an_expired_or_guessed_link_is_404_and_changes_nothing(client, django_capture_on_commit_callbacks):
    application, token = submitted(django_capture_on_commit_callbacks)
    hana = verified("hana@school.example")
    client.force_login(hana)
    assert client.get(reverse("endorsement", args=["guessed-token"])).status_code == 404
    with time_machine.travel(timezone.now() + timedelta(days=14, seconds=1)):
        client.force_login(hana)
        response = client.post(reverse("endorsement", args=[token]), {"decision": "endorse"})
        assert response.status_code == 404 and "This link has expired." in response.content.decode()
    application.refresh_from_db()
    assert application.status == S.AWAITING_ENDORSEMENT
    with time_machine.travel(timezone.now() + timedelta(days=13, hours=23)):
        client.force_login(hana)
        assert client.get(reverse("endorsement", args=[token])).status_code == 200


def test_drafts_expire_after_five_days_and_not_before():
    application = ApplicationFactory()
    started = application.started_at
    assert applications_expire_stale(now=started + timedelta(days=5) - timedelta(seconds=1)) == 0
    assert applications_expire_stale(now=started + timedelta(days=5, seconds=1)) == 1
    application.refresh_from_db()
    assert application.status == S.REGISTRATION_EXPIRED
    assert applications_expire_stale(now=started + timedelta(days=6)) == 0  # rerun changes nothing


def test_withdraw_before_acceptance_only(django_capture_on_commit_callbacks):
    application, _ = submitted(django_capture_on_commit_callbacks)
    application_withdraw(application=application, by=application.user, reason="Moving abroad")
    application.refresh_from_db()
    assert application.status == S.WITHDRAWN and application.decision_reason == "Moving abroad"


def endorsed(django_capture_on_commit_callbacks, **kwargs) -> Application:
    application, token = submitted(django_capture_on_commit_callbacks, **kwargs)
    endorser = User.objects.filter(email=application.endorser_email).first() or verified(
        application.endorser_email
    )
    endorsement_decide(token=token, user=endorser, endorse=True)
    return Application.objects.get(pk=application.pk)


def test_accept_creates_the_participant_within_capacity_then_waitlist(django_capture_on_commit_callbacks):
    course = CourseFactory(funded_places=1)
    group = GroupFactory(course=course, capacity=10)
    staff = UserFactory()
    # Both are eligible (their school is on the PP50 list): only funded places count against the cap.
    EligibilityListEntry.objects.create(
        funding_round=course.cohort.funding_round, kind="pp50_school", identifier="137001"
    )
    first = endorsed(django_capture_on_commit_callbacks, course=course)
    second = endorsed(
        django_capture_on_commit_callbacks, course=course, answers__endorser_email="h2@school.example"
    )
    application_accept(application=first, by=staff)
    first.refresh_from_db()
    assert (
        first.status == S.ACCEPTED and first.participant.group == group and first.participant.trn == "1234567"
    )
    with pytest.raises(ApplicationError, match="is full"):
        application_accept(application=second, by=staff)
    application_waitlist(application=second, by=staff)
    second.refresh_from_db()
    assert (second.status, second.waitlist_position) == (S.WAITLISTED, 1)
    # A place frees: the first on the waiting list is given it.
    with django_capture_on_commit_callbacks(execute=True):
        participant_withdraw(participant=first.participant, reason="personal-reason-moving-school")
    second.refresh_from_db()
    assert second.status == S.ACCEPTED and second.participant.status == Participant.Status.ACTIVE


def test_reject_needs_a_reason(django_capture_on_commit_callbacks):
    application = endorsed(django_capture_on_commit_callbacks)
    with pytest.raises(ApplicationError):
        application_reject(application=application, by=UserFactory(), reason="")
    application_reject(
        application=application, by=UserFactory(), reason="Not enough leadership experience yet"
    )
    application.refresh_from_db()
    assert application.status == S.REJECTED


def test_accepting_rejects_the_users_other_applications_for_the_same_npq_and_intake(
    django_capture_on_commit_callbacks,
):
    course = CourseFactory()
    GroupFactory(course=course)
    other_hub_course = CourseFactory(
        cohort=CohortFactory(identifier=course.cohort.identifier), programme=course.programme
    )
    application = endorsed(django_capture_on_commit_callbacks, course=course)
    other = ApplicationFactory(user=application.user, course=other_hub_course)
    different_npq = ApplicationFactory(
        user=application.user,
        course=CourseFactory(
            cohort=CohortFactory(identifier=course.cohort.identifier),  # a third hub, same intake
            programme=Programme.objects.get(code="NPQSL"),
        ),
    )
    application_accept(application=application, by=UserFactory())
    other.refresh_from_db()
    different_npq.refresh_from_db()
    assert other.status == S.WITHDRAWN and "Accepted on" in other.decision_reason  # a draft is withdrawn
    assert different_npq.status == S.DRAFT


def test_change_of_employer_keeps_both_employments(client, django_capture_on_commit_callbacks):
    course = CourseFactory()
    GroupFactory(course=course)
    application = endorsed(django_capture_on_commit_callbacks, course=course)
    application_accept(application=application, by=UserFactory())
    application.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        employment_change_request(
            participant=application.participant,
            workplace_name="Riverside Free School",
            headteacher_name="Rita Reed",
            headteacher_email="rita@riverside.example",
        )
    token = token_from_last_email()
    assert mail.outbox[-1].to == ["rita@riverside.example"]
    client.force_login(verified("rita@riverside.example"))
    client.post(reverse("endorsement", args=[token]), {"decision": "endorse"})
    employments = list(Employment.objects.filter(application=application).order_by("requested_at"))
    assert [e.workplace_name for e in employments] == ["Northfield Academy", "Riverside Free School"]
    assert all(e.confirmed for e in employments)
    assert employments[0].ends_on is not None and employments[1].ends_on is None
    application.refresh_from_db()
    assert application.status == S.ACCEPTED


def test_another_participant_cannot_see_or_withdraw_an_application(
    client, django_capture_on_commit_callbacks
):
    application, _ = submitted(django_capture_on_commit_callbacks)
    client.force_login(UserFactory())
    for name in ("application_detail", "application_check", "application_withdraw"):
        assert client.get(reverse(name, args=[application.pk])).status_code == 404
    assert client.post(reverse("application_withdraw", args=[application.pk])).status_code == 404
    assert client.get(reverse("application_step", args=[application.pk, "trn"])).status_code == 404
    application.refresh_from_db()
    assert application.status == S.AWAITING_ENDORSEMENT


@pytest.mark.parametrize(
    ("start", "target"), [(a, b) for a, targets in TRANSITIONS.items() for b in sorted(targets)]
)
def test_every_allowed_transition_is_recorded_with_who_and_when(start, target):
    application = ApplicationFactory()
    staff = UserFactory()
    extra = {"waitlist_position": 1} if start == S.WAITLISTED else {}
    Application.objects.filter(pk=application.pk).update(status=start, **extra)
    application.refresh_from_db()
    if target == S.ACCEPTED:
        application.participant = ParticipantFactory(user=application.user, group__course=application.course)
    if target == S.WAITLISTED:
        application.waitlist_position = 1
    at = timezone.now()
    transition(application, target, by=staff, note="because", at=at)
    application.refresh_from_db()
    assert application.status == target
    record = application.transitions.get()
    assert (record.from_status, record.to_status, record.by, record.at, record.note) == (
        start,
        target,
        staff,
        at,
        "because",
    )


def test_decisions_are_sent_once_and_kept_with_the_applicants_messages(
    client, django_capture_on_commit_callbacks
):
    from applications.emails import application_decided
    from notifications.models import Notification

    course = CourseFactory()
    GroupFactory(course=course)
    application = endorsed(django_capture_on_commit_callbacks, course=course)
    with django_capture_on_commit_callbacks(execute=True):
        application_accept(application=application, by=UserFactory())
    application.refresh_from_db()
    sent = len(mail.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        application_decided(application)  # a redelivered task, say
    assert len(mail.outbox) == sent
    assert Notification.objects.filter(kind="application_decided", occurrence="accepted").count() == 1
    client.force_login(application.user)
    html = client.get(reverse("my_notifications")).content.decode()
    assert "Your NPQ application: accepted" in html
