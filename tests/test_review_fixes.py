"""Regressions for access problems found in review: each would reopen a hole if it failed."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from applications.models import Application, Endorsement
from applications.services import (
    application_submit,
    application_withdraw,
    employment_change_request,
)
from engagement.models import Attendance
from engagement.tally import tally_course
from funding.models import Institution
from notifications.models import Notification
from programmes.models import HubMembership, Participant
from programmes.services import participant_withdraw, sync_staff_access
from tests.factories import (
    ActivityFactory,
    ApplicationFactory,
    CohortFactory,
    GroupFactory,
    HubStaffFactory,
    ParticipantFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_hubs():
    a_group, b_group = GroupFactory(), GroupFactory()
    sam = HubStaffFactory(hub=a_group.course.cohort.hub)  # administers hub A
    b_group.facilitators.add(sam)  # and facilitates one group in hub B
    HubMembership.objects.create(hub=b_group.course.cohort.hub, user=sam, role=HubMembership.Role.FACILITATOR)
    sync_staff_access(user=sam)
    return a_group, b_group, sam


def test_history_pages_stay_in_scope_and_never_revert(client, two_hubs):
    a_group, b_group, sam = two_hubs
    stranger = ParticipantFactory()  # a third hub
    participant_withdraw(participant=stranger, reason="other")
    version = stranger.history.earliest()
    client.force_login(sam)
    history = reverse("admin:programmes_participant_history", args=[stranger.pk])
    version_url = reverse(
        "admin:programmes_participant_simple_history", args=[stranger.pk, version.history_id]
    )
    assert client.get(history).status_code == 404
    assert client.get(version_url).status_code == 404
    assert client.post(version_url, {"trn": "9999999"}).status_code == 404
    stranger.refresh_from_db()
    assert stranger.status == "withdrawn"
    own = ParticipantFactory(group=a_group)
    participant_withdraw(participant=own, reason="other")
    own_version = reverse(
        "admin:programmes_participant_simple_history", args=[own.pk, own.history.earliest().history_id]
    )
    assert client.get(own_version).status_code == 200
    assert client.post(own_version, {}).status_code == 403  # reverting would bypass the services
    own.refresh_from_db()
    assert own.status == "withdrawn"


def test_facilitating_in_another_hub_gives_no_admin_rights_there(client, two_hubs):
    a_group, b_group, sam = two_hubs
    b_participant = ParticipantFactory(group=b_group)
    client.force_login(sam)
    assert (
        client.get(reverse("admin:programmes_group_change", args=[b_group.pk])).status_code == 200
    )  # may look
    client.post(reverse("admin:programmes_course_change", args=[b_group.course_id]), {"funded_places": 999})
    b_group.course.refresh_from_db()
    assert b_group.course.funded_places != 999
    response = client.post(
        reverse("admin:programmes_participant_status", args=[b_participant.pk, "withdraw"]),
        {"reason": "other"},
    )
    assert response.status_code == 403
    b_participant.refresh_from_db()
    assert b_participant.status == Participant.Status.ACTIVE
    form = client.get(reverse("admin:programmes_cohort_add")).context["adminform"].form
    assert list(form.fields["hub"].queryset) == [a_group.course.cohort.hub]


def test_a_facilitator_sees_and_marks_only_their_own_groups(client):
    mine, theirs = GroupFactory(), None
    theirs = GroupFactory(course=mine.course)
    fran = HubStaffFactory()
    mine.facilitators.add(fran)
    sync_staff_access(user=fran)
    me, other = ParticipantFactory(group=mine), ParticipantFactory(group=theirs)
    conference = ActivityFactory(group=None, course=mine.course)
    for participant in (me, other):
        Attendance.objects.create(participant=participant, activity=conference, status="absent")
    tally_course(course_id=mine.course_id, today=timezone.localdate() + timedelta(days=3650))
    client.force_login(fran)
    page = client.get(reverse("admin:programmes_course_engagement", args=[mine.course_id]))
    assert [t.participant for t in page.context["at_risk"]] == [me]
    register = client.get(reverse("admin:engagement_activity_register", args=[conference.pk]))
    assert [p for p, _ in register.context["form"].rows()] == [me]
    client.post(
        reverse("admin:engagement_activity_register", args=[conference.pk]),
        {f"p{me.pk}": "attended", f"p{other.pk}": "attended"},
    )
    assert Attendance.objects.get(participant=other).status == "absent"


def test_a_link_for_an_application_no_longer_waiting_is_refused_not_an_error(
    client, django_capture_on_commit_callbacks
):
    import re

    Institution.objects.create(
        urn=137001, name="Northfield Academy", establishment_type_code=28, status="Open"
    )
    application = ApplicationFactory()
    with django_capture_on_commit_callbacks(execute=True):
        application_submit(application=application, by=application.user)
    token = re.search(r"/endorse/([\w-]+)/", mail.outbox[-1].body).group(1)
    application_withdraw(application=application, by=application.user)
    client.force_login(UserFactory(email="hana@school.example"))
    response = client.post(reverse("endorsement", args=[token]), {"decision": "endorse"})
    assert response.status_code == 404 and "no longer waiting for endorsement" in response.content.decode()
    application.refresh_from_db()
    assert application.status == Application.Status.WITHDRAWN


def test_an_unanswered_change_of_employer_request_expires_and_can_be_made_again():
    from applications.services import ApplicationError

    participant = ParticipantFactory()
    ApplicationFactory(user=participant.user, course=participant.course, participant=participant)
    Application.objects.filter(participant=participant).update(status="accepted")
    employment_change_request(
        participant=participant,
        workplace_name="New School",
        headteacher_name="Rita",
        headteacher_email="rita@new.example",
    )
    with pytest.raises(ApplicationError, match="already asked"):
        employment_change_request(
            participant=participant,
            workplace_name="New School",
            headteacher_name="Rita",
            headteacher_email="rita@new.example",
        )
    Endorsement.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    employment_change_request(
        participant=participant,
        workplace_name="Other School",
        headteacher_name="Omar",
        headteacher_email="omar@other.example",
    )


def test_messages_to_an_address_show_only_while_it_is_a_verified_address(client):
    old_owner_address = "shared@school.example"
    Notification.objects.create(
        kind="x",
        recipient=old_owner_address,
        subject_type="a.b",
        subject_id=1,
        occurrence="1",
        title="Your result: failed",
        body_text="",
        body_html="",
    )
    newcomer = UserFactory(email=old_owner_address, verified=False)
    client.force_login(newcomer)
    assert "Your result: failed" not in client.get(reverse("my_notifications")).content.decode()


def test_a_group_cannot_be_moved_to_another_course(client):
    group = GroupFactory()
    other_course = CohortFactory(hub=group.course.cohort.hub)
    client.force_login(HubStaffFactory(hub=group.course.cohort.hub))
    form = client.get(reverse("admin:programmes_group_change", args=[group.pk])).context["adminform"].form
    assert "course" not in form.fields
    assert other_course.pk


def test_one_draft_per_cohort_and_staff_access_follows_roles():
    from django.db import IntegrityError, transaction

    from applications.services import application_start
    from programmes.services import hub_membership_add, hub_membership_remove

    user = UserFactory()
    cohort = CohortFactory(
        registration_opens_on=timezone.localdate(), registration_closes_on=timezone.localdate()
    )
    first = application_start(user=user, cohort=cohort)
    assert application_start(user=user, cohort=cohort) == first
    with pytest.raises(IntegrityError), transaction.atomic():
        Application.objects.create(user=user, cohort=cohort, started_at=timezone.now())
    membership = hub_membership_add(hub=cohort.hub, user=user, role=HubMembership.Role.HUB_ADMIN)
    user.refresh_from_db()
    assert user.is_staff
    hub_membership_remove(membership=membership)
    user.refresh_from_db()
    assert not user.is_staff and not user.groups.exists()


# --- Domain review ---------------------------------------------------------------------------


def test_just_under_90_percent_is_not_on_track_and_gives_no_assessment_access():
    from datetime import date, datetime
    from decimal import Decimal

    from assessment.services import entry_for, window_create
    from engagement.models import EngagementTally
    from tests.factories import LONDON

    group = GroupFactory()
    participant = ParticipantFactory(group=group)
    done = ActivityFactory(
        group=group, weight=Decimal("200.00"), starts_at=datetime(2025, 11, 1, 16, tzinfo=LONDON)
    )
    missed = ActivityFactory(
        group=group, weight=Decimal("22.23"), starts_at=datetime(2025, 11, 2, 16, tzinfo=LONDON)
    )
    Attendance.objects.create(participant=participant, activity=done, status="attended")
    Attendance.objects.create(participant=participant, activity=missed, status="absent")
    tally_course(course_id=group.course_id, today=date(2025, 12, 1))
    tally = EngagementTally.objects.get(participant=participant)
    assert tally.percent == Decimal("90.00") and tally.on_track is False  # 89.997% shows as 90.00
    window = window_create(course=group.course, opens_on=date(2026, 10, 1))
    assert entry_for(participant=participant, now=window.opens_at).access == "none"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b'[{"round": null, "course": "NPQLT"}]', "item 0: field 'round': is required"),
        (b'[{"round": "2025", "course": null}]', "item 0: field 'course': is required"),
        (b'[{"round": "2025", "course": "NPQLT\\xff"}]'.replace(b"\\xff", b"\xff"), "is not UTF-8 text"),
    ],
)
def test_assess_funding_refuses_nulls_and_non_utf8_files_with_status_2(tmp_path, payload, message):
    import subprocess
    import sys

    from tests.conftest import ROOT

    path = tmp_path / "facts.json"
    path.write_bytes(payload)
    result = subprocess.run(
        [sys.executable, "manage.py", "assess_funding", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2 and result.stdout == "" and message in result.stderr


def test_funding_rule_details_from_the_domain_review():
    from funding.eligibility import decide, parse_facts
    from funding.models import FundingRound

    nursery = {
        "round": "2022-23",
        "course": "NPQEYL",
        "in_england": True,
        "work_setting": "early_years",
        "kind_of_nursery": "local_authority_maintained_nursery",
        "establishment_type_code": 15,
        "number_of_pupils": 100,
    }
    assert decide(parse_facts(nursery)).targeted_support_funding_gbp == 200  # a nursery school is a school
    school = {
        "round": "2025",
        "course": "NPQLT",
        "in_england": True,
        "work_setting": "school",
        "establishment_type_code": 28,
    }
    assert decide(parse_facts({**school, "la_code": "0"})).reason == "not_in_england"  # "0" is LA 000
    round_2025 = FundingRound.objects.get(code="2025")
    round_2025.rules_data = {"ehco_max_years_as_headteacher": 3}
    rules = round_2025.rules()
    assert rules.ehco_max_years_as_headteacher == 3
    assert rules.rules  # the round's own table stays under an edit of another setting
    assert decide(parse_facts(school), rules).reason == "ineligible_establishment_not_on_list"
