"""Each role sees what it uses: the header's links, the home page, and the page a headteacher
lands on from the emailed endorsement link."""

import re
from datetime import timedelta
from html import unescape

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import resolve, reverse
from django.utils import timezone

from applications.models import Application, Endorsement
from applications.selectors import endorser_requests
from applications.services import application_submit, endorsement_decide
from funding.models import Institution
from npq_portal.context_processors import navigation
from tests.factories import (
    PASSWORD,
    ApplicationFactory,
    HubFactory,
    HubStaffFactory,
    ParticipantFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


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


def submitted(capture, **kwargs) -> tuple[Application, str]:
    application = ApplicationFactory(**kwargs)
    with capture(execute=True):
        application_submit(application=application, by=application.user)
    token = re.search(r"/endorse/([\w-]+)/", mail.outbox[-1].body).group(1)
    return Application.objects.get(pk=application.pk), token


def nav_labels(html: str) -> list[str]:
    menu = re.search(r'<ul class="govuk-service-navigation__list".*?</ul>', html, re.S).group(0)
    return [
        unescape(re.sub(r"<[^>]+>", "", label)).strip()
        for label in re.findall(
            r'class="govuk-service-navigation__link[^"]*"[^>]*>(.*?)</(?:a|button)>', menu, re.S
        )
    ]


def footer(html: str) -> str:
    return re.search(r'<footer class="govuk-footer">.*?</footer>', html, re.S).group(0)


# --- Navigation -----------------------------------------------------------------------------------


def test_someone_not_signed_in_sees_sign_in_and_create_an_account(client):
    html = client.get("/").content.decode()
    assert nav_labels(html) == ["Sign in", "Create an account"]
    assert 'href="/status"' in footer(html) and "Two-factor authentication" not in footer(html)


def test_a_participant_sees_their_npqs_calendar_and_messages(client):
    participant = ParticipantFactory()
    client.force_login(participant.user)
    html = client.get("/").content.decode()
    assert nav_labels(html) == ["Your NPQs", "Calendar", "Messages", "Sign out"]
    assert 'href="/accounts/2fa/">Two-factor authentication</a>' in footer(html)
    # The current page is marked for assistive technology.
    assert re.search(r'href="/" aria-current="page"', html)


def test_a_teacher_who_has_only_applied_is_a_participant_too(client, django_capture_on_commit_callbacks):
    application, _ = submitted(django_capture_on_commit_callbacks)
    client.force_login(application.user)
    assert nav_labels(client.get("/calendar/").content.decode())[:3] == ["Your NPQs", "Calendar", "Messages"]


def test_hub_staff_also_see_marking_and_hub_administration(client):
    staff = HubStaffFactory(hub=HubFactory())
    client.force_login(staff)
    html = client.get("/").content.decode()
    assert nav_labels(html) == [
        "Your NPQs",
        "Calendar",
        "Messages",
        "Marking",
        "Hub administration",
        "Sign out",
    ]
    assert "Two-factor authentication" in footer(html)


def test_a_headteacher_sees_endorsements_first_not_your_npqs(client, django_capture_on_commit_callbacks):
    submitted(django_capture_on_commit_callbacks)
    hana = UserFactory(email="hana@school.example")
    client.force_login(hana)
    html = client.get("/").content.decode()
    assert nav_labels(html) == ["Endorsements", "Messages", "Sign out"]
    assert "Your NPQs" not in html
    assert "<title>Endorsements – NPQ Portal</title>" in html
    assert "Two-factor authentication" in footer(html)


def test_a_headteacher_who_also_has_an_npq_keeps_the_participant_navigation(
    client, django_capture_on_commit_callbacks
):
    submitted(django_capture_on_commit_callbacks)
    hana = UserFactory(email="hana@school.example")
    ParticipantFactory(user=hana)
    client.force_login(hana)
    html = client.get("/").content.decode()
    assert nav_labels(html)[0] == "Your NPQs"
    assert "Requests to endorse an application" in html  # and her requests are on her home page


def test_the_navigation_costs_nothing_on_pages_that_do_not_show_it(rf, django_assert_num_queries):
    """Worked out lazily: the admin and emails, which have no portal header, make no queries for it."""
    request = rf.get("/calendar/")
    request.user = UserFactory()
    request.resolver_match = resolve("/calendar/")
    with django_assert_num_queries(0):
        context = navigation(request)
    with django_assert_num_queries(1):  # was she asked to endorse anything? (no: a participant)
        labels = [item.label for item in context["nav_items"]]
    assert labels == ["Your NPQs", "Calendar", "Messages"]
    assert [item.active for item in context["nav_items"]] == [False, True, False]


# --- The endorsement link, before signing in ------------------------------------------------------


def test_the_emailed_link_says_who_asked_for_what_and_which_address_to_use(
    client, django_capture_on_commit_callbacks
):
    application, token = submitted(django_capture_on_commit_callbacks)
    url = reverse("endorsement", args=[token])
    response = client.get(url)
    html = unescape(response.content.decode())
    assert response.status_code == 200
    assert "Alice Adeyemi has asked you to endorse their NPQ application" in html
    assert application.course.programme.name in html and str(application.cohort.hub) in html
    assert 'id="endorser-email">hana@school.example<' in html
    assert f'href="/accounts/login/?next={url}"' in html
    assert f'href="/accounts/signup/?next={url}"' in html
    assert "_auth_user_id" not in client.session  # looking changes nothing
    assert Endorsement.objects.get().used_at is None


def test_signing_in_from_the_link_comes_back_to_it(client, django_capture_on_commit_callbacks):
    _, token = submitted(django_capture_on_commit_callbacks)
    UserFactory(email="hana@school.example")
    url = reverse("endorsement", args=[token])
    response = client.post(
        f"/accounts/login/?next={url}", {"login": "hana@school.example", "password": PASSWORD, "next": url}
    )
    assert response["Location"] == url
    assert "Endorse Alice Adeyemi" in unescape(client.get(url).content.decode())


def test_a_link_that_does_not_work_reveals_nothing(client, django_capture_on_commit_callbacks):
    application, token = submitted(django_capture_on_commit_callbacks)
    for url in (
        reverse("endorsement", args=["not-a-token"]),
        reverse("endorsement", args=[token[:-2] + "xx"]),
    ):
        response = client.get(url)
        html = response.content.decode()
        assert response.status_code == 404
        assert "Alice" not in html and "hana@school.example" not in html
        assert application.course.programme.name not in html
    with time_machine.travel(timezone.now() + timedelta(days=15)):
        response = client.get(reverse("endorsement", args=[token]))
    assert response.status_code == 404 and "has expired" in response.content.decode()
    assert "Alice" not in response.content.decode()


# --- The headteacher's home page ------------------------------------------------------------------


def test_after_answering_the_headteacher_sees_what_she_answered_and_what_waits(
    client, django_capture_on_commit_callbacks
):
    first, first_token = submitted(django_capture_on_commit_callbacks)
    second, _ = submitted(
        django_capture_on_commit_callbacks,
        user=UserFactory(full_name="Ben Brown"),
    )
    Application.objects.filter(pk=second.pk).update(full_name="Ben Brown")
    hana = UserFactory(email="hana@school.example")
    with django_capture_on_commit_callbacks(execute=True):
        endorsement_decide(
            token=first_token, user=hana, endorse=False, reason="Not this year: Ofsted is due."
        )
    client.force_login(hana)
    html = unescape(client.get("/").content.decode())
    waiting, answered = html.split('id="endorsements-answered"')
    assert "Ben Brown" in waiting and "Open the link in the email we sent to hana@school.example" in waiting
    assert (
        "Alice Adeyemi" in answered and "Declined" in answered and "Not this year: Ofsted is due." in answered
    )
    assert "Alice Adeyemi" not in waiting


def test_only_requests_to_a_confirmed_address_of_hers_are_listed(django_capture_on_commit_callbacks):
    submitted(django_capture_on_commit_callbacks)
    hana = UserFactory(email="hana.personal@mail.example")
    # The school address is on her account but not confirmed: it shows nothing.
    EmailAddress.objects.create(user=hana, email="hana@school.example", verified=False, primary=False)
    assert not endorser_requests(user=hana)
    EmailAddress.objects.filter(email="hana@school.example").update(verified=True)
    assert len(endorser_requests(user=hana).waiting) == 1
    # Someone else, and the applicant herself, see none of it.
    assert not endorser_requests(user=UserFactory(email="other@school.example"))
    assert not endorser_requests(user=Application.objects.get().user)


def test_replaced_and_expired_requests_no_longer_wait(django_capture_on_commit_callbacks):
    submitted(django_capture_on_commit_callbacks)
    hana = UserFactory(email="hana@school.example")
    assert len(endorser_requests(user=hana).waiting) == 1
    later = timezone.now() + timedelta(days=15)
    assert endorser_requests(user=hana, now=later).waiting == []
    Endorsement.objects.update(replaced_at=timezone.now())
    assert endorser_requests(user=hana).waiting == []
