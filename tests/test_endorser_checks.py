"""Endorsements from an address the applicant may control are shown to hub staff: webmail, or a
domain the school's earlier endorsements never used. Staff confirm them or ask again."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from applications.endorsement_checks import PUBLIC_WEBMAIL_DOMAINS, application_check, email_domain
from applications.models import Application, Endorsement
from applications.reminders import endorsements_expire
from applications.services import (
    ApplicationError,
    EndorsementLinkError,
    application_submit,
    endorsement_decide,
    endorsement_domain_confirm,
    endorsement_request_again,
)
from funding.models import Institution
from tests.factories import (
    ApplicationFactory,
    CourseFactory,
    GroupFactory,
    HubStaffFactory,
    UserFactory,
    complete_answers,
)

pytestmark = pytest.mark.django_db
S = Application.Status


@pytest.fixture
def course():
    Institution.objects.create(
        urn=137001, name="Northfield Academy", establishment_type_code=28, status="Open"
    )
    Institution.objects.create(
        urn=137002, name="Southfield School", establishment_type_code=28, status="Open"
    )
    course = CourseFactory(funded_places=10)
    GroupFactory(course=course, capacity=10)
    return course


@pytest.fixture
def sam(course):
    return HubStaffFactory(hub=course.cohort.hub)


def submit(capture, course, endorser_email: str, urn: int = 137001) -> tuple[Application, str]:
    application = ApplicationFactory(
        course=course,
        answers=complete_answers(course, endorser_email=endorser_email, urn=urn, workplace=str(urn)),
    )
    with capture(execute=True):
        application_submit(application=application, by=application.user)
    token = re.search(r"/endorse/([\w-]+)/", mail.outbox[-1].body).group(1)
    return Application.objects.get(pk=application.pk), token


def endorse(capture, token: str, email: str) -> None:
    endorser = UserFactory(email=email)
    with capture(execute=True):
        endorsement_decide(token=token, user=endorser, endorse=True)


def test_the_webmail_list_covers_the_common_services():
    assert {"gmail.com", "googlemail.com", "hotmail.co.uk", "outlook.com", "icloud.com", "proton.me"} <= (
        PUBLIC_WEBMAIL_DOMAINS
    )
    assert email_domain("Head@GMAIL.com.") == "gmail.com"


def test_an_endorsement_from_webmail_is_flagged_in_words(django_capture_on_commit_callbacks, course):
    application, _ = submit(django_capture_on_commit_callbacks, course, "hana.head@gmail.com")
    endorsement = application.endorsements.get()
    assert endorsement.endorser_domain == "gmail.com"
    assert endorsement.domain_concern == Endorsement.DomainConcern.WEBMAIL
    check = application_check(application)
    assert check.needs_checking
    assert check.reason == "personal email address (gmail.com)"
    assert "public webmail service" in check.message and "webmail" not in check.reason


def test_a_domain_new_for_the_school_is_flagged(django_capture_on_commit_callbacks, course):
    first, token = submit(django_capture_on_commit_callbacks, course, "hana@school.example")
    assert application_check(first) is None  # the school's first: nothing to compare with
    endorse(django_capture_on_commit_callbacks, token, "hana@school.example")

    second, _ = submit(django_capture_on_commit_callbacks, course, "head@northfie1d-academy.example")
    endorsement = second.endorsements.get()
    assert endorsement.domain_concern == Endorsement.DomainConcern.NEW_FOR_SCHOOL
    check = application_check(second)
    assert check.needs_checking and check.reason == "new address for this school (northfie1d-academy.example)"
    assert "Earlier endorsements from this school came from school.example" in check.message


def test_a_domain_seen_before_for_the_school_is_not_flagged(django_capture_on_commit_callbacks, course):
    _, token = submit(django_capture_on_commit_callbacks, course, "hana@school.example")
    endorse(django_capture_on_commit_callbacks, token, "hana@school.example")
    again, _ = submit(django_capture_on_commit_callbacks, course, "deputy@school.example")
    assert again.endorsements.get().domain_concern == ""
    assert application_check(again) is None
    # Another school's domains say nothing about this one.
    elsewhere, _ = submit(django_capture_on_commit_callbacks, course, "head@other.example", urn=137002)
    assert application_check(elsewhere) is None


def test_an_unchecked_new_domain_does_not_vouch_for_the_next_one(
    django_capture_on_commit_callbacks, course, sam
):
    _, token = submit(django_capture_on_commit_callbacks, course, "hana@school.example")
    endorse(django_capture_on_commit_callbacks, token, "hana@school.example")
    sham, token = submit(django_capture_on_commit_callbacks, course, "head@sham.example")
    endorse(django_capture_on_commit_callbacks, token, "head@sham.example")
    # Endorsed from sham.example, but nobody checked it: the next one from there is flagged too.
    following, _ = submit(django_capture_on_commit_callbacks, course, "head@sham.example")
    assert application_check(following).needs_checking
    # Once staff confirm one, the domain counts as the school's.
    endorsement_domain_confirm(endorsement=sham.endorsements.get(), by=sam)
    later, _ = submit(django_capture_on_commit_callbacks, course, "head@sham.example")
    assert application_check(later) is None


def test_staff_confirming_clears_the_flag_and_records_who_and_when(
    client, django_capture_on_commit_callbacks, course, sam
):
    application, token = submit(django_capture_on_commit_callbacks, course, "hana.head@gmail.com")
    endorse(django_capture_on_commit_callbacks, token, "hana.head@gmail.com")
    client.force_login(sam)
    changelist = reverse("admin:applications_application_changelist")
    page = client.get(changelist).content.decode()
    assert "Check: personal email address (gmail.com)" in page and "webmail</td>" not in page
    assert list(client.get(changelist, {"endorser_address": "check"}).context["cl"].result_list) == [
        application
    ]

    url = reverse("admin:applications_application_confirm_endorser", args=[application.pk])
    assert (
        "Check the endorser's address: personal email address (gmail.com)" in client.get(url).content.decode()
    )
    with time_machine.travel(timezone.now(), tick=False):
        response = client.post(url)
        confirmed_at = timezone.now()
    assert response.status_code == 302
    endorsement = application.endorsements.get()
    assert endorsement.domain_confirmed_by == sam and endorsement.domain_confirmed_at == confirmed_at
    assert not application_check(application).needs_checking
    assert list(client.get(changelist, {"endorser_address": "check"}).context["cl"].result_list) == []
    assert list(client.get(changelist, {"endorser_address": "confirmed"}).context["cl"].result_list) == [
        application
    ]
    assert "Checked by staff (gmail.com)" in client.get(changelist).content.decode()
    page = client.get(
        reverse("admin:applications_application_change", args=[application.pk])
    ).content.decode()
    assert "Endorser's address checked." in page and f"{sam.email} confirmed the endorser" in page


def test_the_accept_step_shows_the_warning_and_bulk_accept_leaves_flagged_ones(
    client, django_capture_on_commit_callbacks, course, sam
):
    flagged, token = submit(django_capture_on_commit_callbacks, course, "hana.head@gmail.com")
    endorse(django_capture_on_commit_callbacks, token, "hana.head@gmail.com")
    fine, token = submit(django_capture_on_commit_callbacks, course, "oscar@school.example", urn=137002)
    endorse(django_capture_on_commit_callbacks, token, "oscar@school.example")
    client.force_login(sam)
    page = client.get(reverse("admin:applications_application_accept", args=[flagged.pk])).content.decode()
    assert "Check the endorser's address: personal email address (gmail.com)." in page
    assert "public webmail service" in page
    assert (
        "Check the endorser"
        in client.get(reverse("admin:applications_application_change", args=[flagged.pk])).content.decode()
    )
    assert (
        "Check the endorser"
        not in client.get(reverse("admin:applications_application_accept", args=[fine.pk])).content.decode()
    )

    response = client.post(
        reverse("admin:applications_application_changelist"),
        {"action": "accept_selected", "_selected_action": [flagged.pk, fine.pk]},
        follow=True,
    )
    text = response.content.decode()
    assert f"NPQ-{flagged.pk:06d} was not accepted: the endorser&#x27;s address needs checking" in text
    assert "1 application accepted." in text
    assert Application.objects.get(pk=flagged.pk).status == S.ENDORSED
    assert Application.objects.get(pk=fine.pk).status == S.ACCEPTED
    # Staff looked at the warning on the accept page and accept anyway: that is their decision.
    client.post(reverse("admin:applications_application_accept", args=[flagged.pk]), {"group": ""})
    assert Application.objects.get(pk=flagged.pk).status == S.ACCEPTED


def test_asking_again_sends_a_new_link_and_the_old_one_stops_working(
    client, django_capture_on_commit_callbacks, course, sam
):
    application, old_token = submit(django_capture_on_commit_callbacks, course, "hana.head@gmail.com")
    endorse(django_capture_on_commit_callbacks, old_token, "hana.head@gmail.com")
    old = application.endorsements.get()
    client.force_login(sam)
    url = reverse("admin:applications_application_ask_again", args=[application.pk])
    assert 'value="hana.head@gmail.com"' in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"name": "Hana Hughes", "email": "H.Hughes@northfield.example"})
    assert response.status_code == 302
    assert mail.outbox[-1].to == ["h.hughes@northfield.example"]
    new_token = re.search(r"/endorse/([\w-]+)/", mail.outbox[-1].body).group(1)
    assert new_token != old_token

    application.refresh_from_db()
    assert application.status == S.AWAITING_ENDORSEMENT
    assert application.endorser_email == "h.hughes@northfield.example"
    last = application.transitions.last()
    assert (last.from_status, last.to_status, last.by) == (S.ENDORSED, S.AWAITING_ENDORSEMENT, sam)
    old.refresh_from_db()
    assert old.replaced_at is not None and old.replaced_by == sam
    employment = old.employment
    employment.refresh_from_db()
    assert employment.headteacher_email == "h.hughes@northfield.example" and not employment.confirmed

    # The old link no longer works, for anyone; the new one does, for the new address.
    gmail_holder = UserFactory(email="someone@example.org")
    client.force_login(gmail_holder)
    assert client.get(reverse("endorsement", args=[old_token])).status_code == 404
    hana = UserFactory(email="h.hughes@northfield.example")
    client.force_login(hana)
    assert client.get(reverse("endorsement", args=[new_token])).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("endorsement", args=[new_token]), {"decision": "endorse"})
    application.refresh_from_db()
    assert application.status == S.ENDORSED
    assert application_check(application) is None  # the school's first endorsement we can rely on


def test_an_unanswered_link_replaced_before_it_is_used_cannot_be_answered(
    django_capture_on_commit_callbacks, course, sam
):
    application, old_token = submit(django_capture_on_commit_callbacks, course, "hana.head@gmail.com")
    holder = UserFactory(email="hana.head@gmail.com")
    with django_capture_on_commit_callbacks(execute=True):
        endorsement_request_again(
            application=application, name="Hana Hughes", email="hana@school.example", by=sam
        )
    with pytest.raises(EndorsementLinkError, match="replaced"):
        endorsement_decide(token=old_token, user=holder, endorse=True)
    application.refresh_from_db()
    assert application.status == S.AWAITING_ENDORSEMENT
    assert (
        application.endorsements.filter(replaced_at__isnull=True).get().endorser_email
        == "hana@school.example"
    )


def test_the_replaced_request_does_not_expire_the_application(
    django_capture_on_commit_callbacks, course, sam
):
    application, _ = submit(django_capture_on_commit_callbacks, course, "hana.head@gmail.com")
    with time_machine.travel(timezone.now() + timedelta(days=5)):
        endorsement_request_again(
            application=application, name="Hana Hughes", email="hana@school.example", by=sam
        )
    with time_machine.travel(timezone.now() + timedelta(days=14, hours=1)):
        assert endorsements_expire(timezone.localdate()) == 0  # the first link's 14 days are over
    application.refresh_from_db()
    assert application.status == S.AWAITING_ENDORSEMENT
    with time_machine.travel(timezone.now() + timedelta(days=19, hours=1)):
        endorsements_expire(timezone.localdate())
    application.refresh_from_db()
    assert application.status == S.REGISTRATION_EXPIRED


def test_asking_again_is_refused_once_the_hub_has_decided(django_capture_on_commit_callbacks, course, sam):
    application, token = submit(django_capture_on_commit_callbacks, course, "hana@school.example")
    endorse(django_capture_on_commit_callbacks, token, "hana@school.example")
    from applications.services import application_accept

    application_accept(application=application, by=sam)
    with pytest.raises(ApplicationError, match="not once it has been accepted"):
        endorsement_request_again(application=application, name="X", email="x@school.example", by=sam)


def test_the_day_staff_confirmed_the_endorser_is_the_day_in_the_uk(
    client, django_capture_on_commit_callbacks, course, sam
):
    """23:30 on 30 June in UTC is 00:30 on 1 July in London (summer time)."""
    from datetime import UTC, datetime

    application, token = submit(django_capture_on_commit_callbacks, course, "hana.head@gmail.com")
    endorse(django_capture_on_commit_callbacks, token, "hana.head@gmail.com")
    client.force_login(sam)
    with time_machine.travel(datetime(2025, 6, 30, 23, 30, tzinfo=UTC), tick=False):
        client.post(reverse("admin:applications_application_confirm_endorser", args=[application.pk]))
    assert "confirmed the endorser on 1 July 2025." in application_check(application).message
