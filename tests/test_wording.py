"""Wording people read: plurals that agree with their numbers, model names in correct English,
times written the GOV.UK way, and messages that say what is wrong in words."""

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.core import mail
from django.template import Context, Template
from django.template.loader import render_to_string
from django.urls import reverse

from applications.forms import IdentityForm
from applications.models import Application
from applications.selectors import STATUS_PHRASES
from applications.services import ApplicationError, application_accept, transition
from assessment.reminders import marking_due
from assessment.services import entry_for, markers_assign, submission_create
from common.dates import govuk_datetime, govuk_time
from funding.imports import Outcome, summary
from tests.factories import ApplicationFactory, HubMembershipFactory, HubStaffFactory
from tests.test_assessment_reminders import run, window  # noqa: F401 (a fixture)

LONDON = ZoneInfo("Europe/London")
UTC = ZoneInfo("UTC")
VOWELS = set("aeiou")


# --- Model names --------------------------------------------------------------------------------


def plural_problem(singular: str, plural: str) -> str | None:
    """Why ``plural`` is not the English plural of ``singular`` (None when it looks right)."""
    one, many = singular.split()[-1].lower(), plural.split()[-1].lower()
    if re.search(r"[^aeiou]ys$", many):
        return "a consonant + y takes -ies (entry, entries)"
    if re.search(r"(s|x|z|ch|sh)s$", many):
        return "-s, -x, -z, -ch and -sh take -es (class, classes)"
    if one.endswith("y") and one[-2:-1] not in VOWELS and many == one + "s":
        return "a consonant + y takes -ies"
    # Whole names: "change sent to DfE" -> "changes sent to DfE" ends on the same word.
    if plural.lower() == singular.lower() and one not in {"staff", "feedback", "data", "attendance"}:
        return "the plural is the singular"
    return None


@pytest.mark.parametrize(
    ("singular", "plural", "wrong"),
    [
        ("entry", "entrys", True),
        ("engagement tally", "engagement tallys", True),
        ("class", "classs", True),
        ("box", "boxs", True),
        ("entry", "entries", False),
        ("key day", "key days", False),
        ("mentor check-in", "mentor check-ins", False),
        ("change sent to DfE", "changes sent to DfE", False),
        ("change sent to DfE", "change sent to DfE", True),
    ],
)
def test_the_plural_check_itself(singular, plural, wrong):
    assert (plural_problem(singular, plural) is not None) == wrong


@pytest.mark.parametrize("model", apps.get_models(), ids=lambda m: m._meta.label)
def test_every_model_has_a_correct_english_plural(model):
    meta = model._meta
    problem = plural_problem(str(meta.verbose_name), str(meta.verbose_name_plural))
    assert problem is None, f"{meta.label}: {meta.verbose_name_plural!r}: {problem}; set verbose_name_plural"


# --- Times --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (time(9, 0), "9am"),
        (time(16, 30), "4:30pm"),
        (time(12, 0), "midday"),
        (time(0, 0), "midnight"),
        (time(0, 5), "12:05am"),
        (time(12, 45), "12:45pm"),
        (datetime(2025, 6, 3, 15, 30, tzinfo=UTC), "4:30pm"),  # British Summer Time
        (datetime(2025, 12, 3, 15, 30, tzinfo=UTC), "3:30pm"),
    ],
)
def test_times_are_written_the_govuk_way(moment, expected):
    assert govuk_time(moment) == expected


def test_a_sentence_ending_in_a_time_has_one_full_stop():
    moment = datetime(2025, 6, 3, 15, 30, tzinfo=UTC)
    text = Template("submitted at {{ at|govuk_datetime }}.").render(Context({"at": moment}))
    assert text == "submitted at 4:30pm on 3 June 2025."
    assert govuk_datetime(moment, "l j F Y") == "4:30pm on Tuesday 3 June 2025"
    assert govuk_datetime(None) == ""


@pytest.mark.django_db
def test_no_page_or_email_writes_p_m(client):
    """Django's "a" format ("p.m.") doubled the full stop at the end of a sentence."""
    from pathlib import Path

    from django.conf import settings

    offenders = [
        str(path.relative_to(settings.BASE_DIR))
        for path in (Path(settings.BASE_DIR) / "templates").rglob("*.*")
        if re.search(r"\|date:\"[^\"]*[aA]\"", path.read_text(errors="ignore"))
    ]
    assert offenders == []


@pytest.mark.django_db
def test_the_application_timeline_reads_4_30pm(client):
    with time_machine.travel(datetime(2025, 6, 3, 16, 30, tzinfo=LONDON), tick=False):
        application = ApplicationFactory()
    client.force_login(application.user)
    html = client.get(f"/applications/{application.pk}/").content.decode()
    assert "4:30pm on 3 June 2025" in html and "p.m." not in html


# --- Plurals ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_one_script_to_mark_is_one_script(window, django_capture_on_commit_callbacks):  # noqa: F811
    window, people = window
    opening = datetime(2026, 6, 10, 9, tzinfo=UTC)
    submission_create(entry=entry_for(participant=people[0], now=opening), text="Response", now=opening)
    marker = HubMembershipFactory(hub=window.course.cohort.hub).user
    markers_assign(window=window, markers=[marker])
    before = datetime.combine(window.marking_due_on - timedelta(days=14), time(9), tzinfo=UTC)
    assert run(marking_due, before, django_capture_on_commit_callbacks) == 1
    message = mail.outbox[-1]
    assert "1 NPQ script to mark by" in message.subject
    assert "You have 1 " in message.body and " script still to mark." in message.body
    assert "scripts" not in message.subject + message.body


@pytest.mark.parametrize(("count", "word"), [(1, "script"), (2, "scripts")])
def test_the_marking_email_agrees_with_its_number(count, word):
    class Window:
        marking_due_on = date(2027, 1, 1)

        class course:
            class programme:
                name = "Headship"

    for ext in ("txt", "html"):
        text = render_to_string(f"emails/reminders/marking_due.{ext}", {"count": count, "window": Window})
        assert f"You have {count} Headship {word} still to mark." in text


@pytest.mark.parametrize(("rows", "text"), [(1, "1 row read"), (2, "2 rows read")])
def test_import_summaries_agree_with_their_number(rows, text):
    assert summary(Outcome(rows_total=rows)).startswith(text)


@pytest.mark.django_db
def test_opening_a_window_for_one_participant_says_one_entry(client):
    from assessment.services import window_create
    from engagement.models import EngagementTally
    from tests.factories import CourseFactory, GroupFactory, ParticipantFactory

    course = CourseFactory()
    participant = ParticipantFactory(group=GroupFactory(course=course))
    EngagementTally.objects.create(
        participant=participant,
        percent=95,
        done_weight=1,
        due_weight=1,
        on_track=True,
        computed_at=datetime.now(UTC),
    )
    assessment_window = window_create(course=course, opens_on=date(2026, 6, 10))
    client.force_login(HubStaffFactory(hub=course.cohort.hub))
    with time_machine.travel(datetime(2026, 6, 10, 9, tzinfo=UTC), tick=False):
        url = reverse("admin:assessment_window_manage", args=[assessment_window.pk])
        response = client.post(url, {"action": "open"}, follow=True)
    html = response.content.decode()
    assert "1 entry made." in html and "1 entries" not in html
    assert re.search(r"1 entry,", html)


# --- Messages that say what is wrong ------------------------------------------------------------


def test_every_status_reads_as_a_phrase():
    assert set(STATUS_PHRASES) == set(Application.Status)
    assert not [p for p in STATUS_PHRASES.values() if p != p.lower() or p.endswith(".")]


@pytest.mark.django_db
def test_accepting_a_declined_application_says_so_in_words():
    application = ApplicationFactory()
    Application.objects.filter(pk=application.pk).update(status=Application.Status.ENDORSEMENT_DECLINED)
    application.refresh_from_db()
    with pytest.raises(ApplicationError) as refused:
        application_accept(application=application, by=HubStaffFactory())
    message = str(refused.value)
    assert message == "Only an endorsed or waitlisted application can be accepted. This one was not endorsed."
    assert "is endorsement declined" not in message


@pytest.mark.django_db
def test_a_refused_transition_names_the_states_in_words():
    application = ApplicationFactory()
    with pytest.raises(ApplicationError) as refused:
        transition(application, Application.Status.ACCEPTED, by=None)
    assert str(refused.value) == "An application that has not been submitted cannot become “Accepted”."


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("1 1 1900", "Date of birth must be on or after 1 January 1925"),
        ("31 12 1924", "Date of birth must be on or after 1 January 1925"),
        ("1 6 2010", "You must be 18 or older to apply: check your date of birth"),
    ],
)
def test_an_implausible_date_of_birth_says_what_is_wrong(typed, message):
    with time_machine.travel(datetime(2025, 9, 1, 12, tzinfo=UTC), tick=False):
        form = IdentityForm({"full_name": "Alice Adeyemi", "date_of_birth": typed})
        assert not form.is_valid()
    assert form.errors["date_of_birth"] == [message]


def test_a_plausible_date_of_birth_is_accepted():
    with time_machine.travel(datetime(2025, 9, 1, 12, tzinfo=UTC), tick=False):
        form = IdentityForm({"full_name": "Alice Adeyemi", "date_of_birth": "1 1 1925"})
        assert form.is_valid(), form.errors
    assert form.cleaned_data["date_of_birth"] == "1925-01-01"
