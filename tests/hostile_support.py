"""The world hostile input is tried in (tests/test_hostile_input*.py): Alice, with a draft
application holding answers for every route through the form and an earlier enrolment with a
mentor, a check-in and an assessment; Hana, who endorses; a marker; and Bob's application
waiting for Hana's endorsement. Built at NOW, with sign-in rate limits off."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import time_machine
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from applications.models import Application
from applications.services import application_accept, application_submit, endorsement_decide
from assessment.models import Submission
from assessment.services import entry_for, markers_assign, submission_create, window_create
from engagement.checkins import checkin_log
from engagement.models import EngagementTally
from engagement.services import calendar_feed_rotate
from funding.models import IttProvider
from programmes.models import Programme
from tests.factories import (
    ApplicationFactory,
    CohortFactory,
    CourseFactory,
    GroupFactory,
    HubMembershipFactory,
    UserFactory,
    complete_answers,
    northfield_schools,
)

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2025, 7, 1, 10, 0, tzinfo=LONDON)


@dataclass
class World:
    alice: object
    hana: object
    marker: object
    draft: Application
    profiles: list[dict]
    participant: object
    endorsement_token: str
    checkin_token: str
    calendar_token: str
    assignment: object
    itt_provider: IttProvider


def attacked_world(capture, settings, tmp_path) -> Iterator[World]:
    """The world at NOW, as each test file's ``world`` fixture gives it."""
    settings.ACCOUNT_RATE_LIMITS = False  # every attempt reaches the form, however many
    settings.MEDIA_ROOT = tmp_path
    with time_machine.travel(NOW, tick=False):
        yield _world(capture)


def _world(capture) -> World:
    northfield_schools()
    itt = IttProvider.objects.create(name="Kent Teacher Training", approved=True)
    alice = UserFactory(email="alice@school.example", full_name="Alice Adeyemi")
    hana = UserFactory(email="hana@school.example", full_name="Hana Hughes")

    # Alice's draft in an open cohort, with answers for every route through the form.
    cohort = CohortFactory(registration_opens_on=date(2025, 6, 1), registration_closes_on=date(2025, 9, 15))
    courses = {
        code: CourseFactory(cohort=cohort, programme=Programme.objects.get(code=code))
        for code in ("NPQLT", "EHCO", "NPQSENCO")
    }
    school = complete_answers(courses["NPQLT"])
    not_on_a_school_site = {
        k: v for k, v in school.items() if k not in ("workplace", "urn", "workplace_name")
    }
    profiles = [
        school,
        {**school, "funded": False, "payment": "school"},
        complete_answers(
            courses["EHCO"],
            headteacher="yes",
            years_as_headteacher=1,
            npqh_status="none",
            withdrew_from_ehco_before="no",
        ),
        complete_answers(courses["NPQSENCO"], senco_in_role_since="2023-09-01"),
        {
            **not_on_a_school_site,
            "work_setting": "early_years",
            "kind_of_nursery": "childminder",
            "ofsted_urn": "EY123456",
        },
        {
            **not_on_a_school_site,
            "work_setting": "another_setting",
            "employment_type": "lead_mentor_for_accredited_itt_provider",
            "itt_provider": itt.pk,
        },
        {**not_on_a_school_site, "work_setting": "other", "referred_by_return_to_teaching_adviser": "yes"},
    ]
    draft = ApplicationFactory(user=alice, course=courses["NPQLT"], answers=school)

    # Alice is also enrolled on an earlier course, with a mentor, a check-in and an assessment.
    earlier = CourseFactory(
        cohort=CohortFactory(
            start_date=date(2024, 10, 1),
            registration_opens_on=date(2024, 6, 1),
            registration_closes_on=date(2024, 9, 15),
        )
    )
    GroupFactory(course=earlier)
    enrolled = ApplicationFactory(user=alice, course=earlier)
    with capture(execute=True):
        application_submit(application=enrolled, by=alice)
    token = re.search(r"/endorse/([\w-]+)/", mail.outbox[-1].body).group(1)
    endorsement_decide(token=token, user=hana, endorse=True)
    application_accept(application=Application.objects.get(pk=enrolled.pk), by=UserFactory())
    participant = Application.objects.get(pk=enrolled.pk).participant
    with capture(execute=True):
        checkin_log(participant=participant, held_on=date(2025, 6, 20))
    checkin_token = re.search(r"/check-ins/confirm/([\w-]+)/", mail.outbox[-1].body).group(1)
    EngagementTally.objects.create(
        participant=participant,
        percent=Decimal(100),
        done_weight=1,
        due_weight=1,
        on_track=True,
        computed_at=NOW,
    )
    window = window_create(
        course=earlier,
        opens_on=date(2025, 6, 28),
        case_study_text="A case study.",
        case_study_file=ContentFile(b"%PDF-1.4 a case study", name="case-study.pdf"),
    )
    submission = submission_create(entry=entry_for(participant=participant), text="An earlier response")
    Submission.objects.filter(pk=submission.pk).update(
        file=default_storage.save("submissions/response.pdf", ContentFile(b"%PDF-1.4 a response"))
    )
    marker = HubMembershipFactory(hub=earlier.cohort.hub).user
    markers_assign(window=window, markers=[marker])

    # Bob's application waits for Hana's endorsement.
    bob = ApplicationFactory(course=courses["NPQLT"], answers=complete_answers(courses["NPQLT"]))
    with capture(execute=True):
        application_submit(application=bob, by=bob.user)
    endorsement_token = re.search(r"/endorse/([\w-]+)/", mail.outbox[-1].body).group(1)

    return World(
        alice=alice,
        hana=hana,
        marker=marker,
        draft=draft,
        profiles=profiles,
        participant=participant,
        endorsement_token=endorsement_token,
        checkin_token=checkin_token,
        calendar_token=calendar_feed_rotate(user=alice).token,
        assignment=window.entries.get().marking.get(),
        itt_provider=itt,
    )
