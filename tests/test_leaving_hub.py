"""Leaving a hub, or being deactivated, leaves no access behind: unmarked scripts go back to the
pool, group facilitation ends (in one transaction), and /marking/ and calendar feeds check
current hub membership and an active account at every request."""

from datetime import date, datetime
from decimal import Decimal
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from accounts.models import User
from assessment.models import MarkingAssignment
from assessment.services import (
    AssessmentError,
    entry_for,
    mark,
    markers_assign,
    moderation_sample,
    submission_create,
    window_create,
)
from engagement.models import CalendarFeed, EngagementTally
from engagement.services import calendar_feed_rotate
from programmes.models import HubMembership
from programmes.services import membership_end, user_deactivate
from tests.factories import (
    ActivityFactory,
    CourseFactory,
    GroupFactory,
    HubFactory,
    HubStaffFactory,
    ParticipantFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
UTC = ZoneInfo("UTC")
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def scripts():
    """A window with three submitted scripts given to Mia (marker) at hub A; Max is also staff."""
    course = CourseFactory()
    group = GroupFactory(course=course, capacity=10)
    window = window_create(course=course, opens_on=date(2026, 3, 24), case_study_text="A case.")
    hub = course.cohort.hub
    mia = HubStaffFactory(hub=hub, email="mia@hub.example")
    max_ = HubStaffFactory(hub=hub, email="max@hub.example")
    for i in range(3):
        participant = ParticipantFactory(group=group, trn=f"{4000000 + i}")
        EngagementTally.objects.create(
            participant=participant,
            percent=Decimal(95),
            done_weight=1,
            due_weight=1,
            on_track=True,
            computed_at=datetime(2026, 3, 1, tzinfo=UTC),
        )
        entry = entry_for(participant=participant, now=datetime(2026, 3, 24, 9, tzinfo=UTC))
        submission_create(entry=entry, text="word " * 50, now=datetime(2026, 3, 25, 9, tzinfo=UTC))
    assert markers_assign(window=window, markers=[mia]) == 3
    return window, group, mia, max_


def membership(user, hub) -> HubMembership:
    return HubMembership.objects.get(user=user, hub=hub)


# --- Markers --------------------------------------------------------------------------------


def test_a_marker_removed_from_the_hub_loses_marking_and_her_unmarked_scripts_return_to_the_pool(
    client, scripts
):
    window, group, mia, max_ = scripts
    hub = window.course.cohort.hub
    done, *pending = MarkingAssignment.objects.filter(marker=mia).order_by("pk")
    mark(assignment=done, by=mia, result="pass", feedback="Clear.")
    client.force_login(mia)
    assert client.get(reverse("marking_script", args=[pending[0].pk])).status_code == 200

    membership_end(membership=membership(mia, hub), by=max_)

    assert client.get(reverse("marking_list")).status_code == 404
    for assignment in (done, *pending):
        assert client.get(reverse("marking_script", args=[assignment.pk])).status_code == 404
        assert (
            client.post(
                reverse("marking_script", args=[assignment.pk]), {"result": "fail", "feedback": "x"}
            ).status_code
            == 404
        )
        assert client.get(reverse("marking_response_file", args=[assignment.pk])).status_code == 404
    # Her unmarked scripts are in the pool; the mark she gave stays hers.
    assert set(MarkingAssignment.objects.filter(marker__isnull=True)) == set(pending)
    done.refresh_from_db()
    assert done.marker == mia and done.result == "pass"
    # Staff see the pool and give it to someone else.
    staff = HubStaffFactory(hub=hub)
    client.force_login(staff)
    url = reverse("admin:assessment_window_manage", args=[window.pk])
    assert "2 scripts waiting for a marker" in client.get(url).content.decode()
    client.post(url, {"action": "assign", "markers": [max_.pk]})
    assert set(MarkingAssignment.objects.filter(marker=max_)) == set(pending)
    assert not MarkingAssignment.objects.filter(marker__isnull=True).exists()


def test_a_marker_who_left_one_hub_keeps_her_scripts_at_another(client, scripts):
    window, group, mia, max_ = scripts
    other_course = CourseFactory()
    other_window = window_create(course=other_course, opens_on=date(2026, 3, 24))
    HubMembership.objects.create(hub=other_course.cohort.hub, user=mia, role="hub_admin")
    participant = ParticipantFactory(group=GroupFactory(course=other_course))
    EngagementTally.objects.create(
        participant=participant,
        percent=Decimal(100),
        done_weight=1,
        due_weight=1,
        on_track=True,
        computed_at=datetime(2026, 3, 1, tzinfo=UTC),
    )
    entry = entry_for(participant=participant, now=datetime(2026, 3, 24, 9, tzinfo=UTC))
    submission_create(entry=entry, text="word " * 10, now=datetime(2026, 3, 25, 9, tzinfo=UTC))
    markers_assign(window=other_window, markers=[mia])
    elsewhere = MarkingAssignment.objects.get(entry=entry)

    membership_end(membership=membership(mia, window.course.cohort.hub), by=None)

    elsewhere.refresh_from_db()
    assert elsewhere.marker == mia
    client.force_login(mia)
    assert list(client.get(reverse("marking_list")).context["assignments"]) == [elsewhere]
    assert client.get(reverse("marking_script", args=[elsewhere.pk])).status_code == 200


def test_marking_checks_current_membership_even_when_the_cleanup_was_missed(client, scripts):
    """Defence in depth: a membership deleted behind the services' back still closes /marking/."""
    window, group, mia, max_ = scripts
    assignment = MarkingAssignment.objects.filter(marker=mia).first()
    HubMembership.objects.filter(user=mia).delete()  # bypasses membership_end
    client.force_login(mia)
    assert client.get(reverse("marking_list")).status_code == 404
    assert client.get(reverse("marking_script", args=[assignment.pk])).status_code == 404
    assert client.get(reverse("marking_response_file", args=[assignment.pk])).status_code == 404
    with pytest.raises(AssessmentError, match="current staff"):
        mark(assignment=assignment, by=mia, result="pass", feedback="Too late")
    # Not a member, so she cannot be given scripts either.
    with pytest.raises(AssessmentError, match="not on the staff"):
        markers_assign(window=window, markers=[mia])


def test_an_inactive_marker_cannot_mark_even_if_her_scripts_were_not_returned(scripts):
    window, group, mia, max_ = scripts
    assignment = MarkingAssignment.objects.filter(marker=mia).first()
    User.objects.filter(pk=mia.pk).update(is_active=False)  # bypasses user_deactivate
    mia.refresh_from_db()
    with pytest.raises(AssessmentError, match="current staff"):
        mark(assignment=assignment, by=mia, result="pass", feedback="Too late")


def test_a_moderator_who_leaves_hands_moderation_back_to_the_pool(scripts):
    window, group, mia, max_ = scripts
    for assignment in MarkingAssignment.objects.filter(marker=mia):
        mark(assignment=assignment, by=mia, result="fail", feedback="Not yet.")
    moderation_sample(window=window, moderator=max_)
    assert MarkingAssignment.objects.filter(role="moderation", marker=max_).count() == 3
    membership_end(membership=membership(max_, window.course.cohort.hub), by=None)
    assert MarkingAssignment.objects.filter(role="moderation", marker__isnull=True).count() == 3
    newcomer = HubStaffFactory(hub=window.course.cohort.hub)
    assert moderation_sample(window=window, moderator=newcomer) == 3
    assert MarkingAssignment.objects.filter(role="moderation", marker=newcomer).count() == 3


def test_pooled_scripts_never_go_to_someone_who_already_marked_them(scripts):
    window, group, mia, max_ = scripts
    for assignment in MarkingAssignment.objects.filter(marker=mia):
        mark(assignment=assignment, by=mia, result="fail", feedback="Not yet.")
    moderation_sample(window=window, moderator=max_)
    membership_end(membership=membership(max_, window.course.cohort.hub), by=None)
    # Mia marked these scripts first, so she cannot be their moderator: they stay in the pool.
    assert markers_assign(window=window, markers=[mia]) == 0
    assert MarkingAssignment.objects.filter(role="moderation", marker__isnull=True).count() == 3


# --- Facilitators and calendar feeds ---------------------------------------------------------


@pytest.fixture
def facilitated():
    group = GroupFactory(venue="Northfield Teaching School Hub, Room 4")
    ActivityFactory(
        group=group, title="Module 1 seminar", starts_at=datetime(2025, 11, 5, 16, 0, tzinfo=LONDON)
    )
    fran = HubStaffFactory(hub=group.course.cohort.hub, hub__role="facilitator")
    group.facilitators.add(fran)
    token = calendar_feed_rotate(user=fran).token
    with time_machine.travel(datetime(2025, 10, 20, 9, 0, tzinfo=LONDON), tick=False):
        yield group, fran, token


def test_a_deactivated_facilitator_s_feed_serves_nothing_and_her_facilitation_ends(client, facilitated):
    group, fran, token = facilitated
    url = reverse("calendar_feed", args=[token])
    assert "Module 1 seminar" in client.get(url).content.decode()

    user_deactivate(user=fran, by=None)

    response = client.get(url)
    assert response.status_code in (404, 410)
    body = response.content.decode()
    assert "Module 1 seminar" not in body and "Room 4" not in body and "BEGIN:VCALENDAR" not in body
    fran.refresh_from_db()
    assert not fran.is_active
    assert not group.facilitators.exists()
    assert not CalendarFeed.objects.filter(user=fran).exists()


def test_a_feed_checks_the_account_is_active_even_when_the_cleanup_was_missed(client, facilitated):
    group, fran, token = facilitated
    User.objects.filter(pk=fran.pk).update(is_active=False)  # bypasses user_deactivate
    response = client.get(reverse("calendar_feed", args=[token]))
    assert response.status_code == 404
    assert b"Module 1 seminar" not in response.content and fran.full_name.encode() not in response.content


def test_a_facilitator_who_left_the_hub_no_longer_sees_its_sessions(client, facilitated):
    group, fran, token = facilitated
    HubMembership.objects.filter(user=fran).delete()  # bypasses membership_end: facilitation left behind
    assert group.facilitators.filter(pk=fran.pk).exists()
    body = client.get(reverse("calendar_feed", args=[token])).content.decode()
    assert "Module 1 seminar" not in body and "Room 4" not in body


def test_leaving_the_hub_ends_its_group_facilitation_only(client, facilitated):
    group, fran, token = facilitated
    elsewhere = GroupFactory()
    ActivityFactory(group=elsewhere, title="Other hub seminar")
    HubMembership.objects.create(hub=elsewhere.course.cohort.hub, user=fran, role="facilitator")
    elsewhere.facilitators.add(fran)

    membership_end(membership=membership(fran, group.course.cohort.hub), by=None)

    assert not group.facilitators.exists()
    assert list(elsewhere.facilitators.all()) == [fran]
    body = client.get(reverse("calendar_feed", args=[token])).content.decode()
    assert "Other hub seminar" in body and "Module 1 seminar" not in body


# --- One transaction ---------------------------------------------------------------------------


def test_a_failure_part_way_leaves_nothing_half_done(scripts):
    window, group, mia, max_ = scripts
    hub = window.course.cohort.hub
    group.facilitators.add(mia)
    with (
        mock.patch("assessment.receivers.marking_return_to_pool", side_effect=RuntimeError("boom")),
        pytest.raises(RuntimeError),
    ):
        membership_end(membership=membership(mia, hub), by=None)
    assert HubMembership.objects.filter(user=mia, hub=hub).exists()
    assert list(group.facilitators.all()) == [mia]
    assert MarkingAssignment.objects.filter(marker=mia).count() == 3
    with (
        mock.patch("assessment.receivers.marking_return_to_pool", side_effect=RuntimeError("boom")),
        pytest.raises(RuntimeError),
    ):
        user_deactivate(user=mia, by=None)
    mia.refresh_from_db()
    assert mia.is_active
    assert list(group.facilitators.all()) == [mia]
    assert MarkingAssignment.objects.filter(marker=mia).count() == 3


# --- Admin paths -------------------------------------------------------------------------------


@pytest.fixture
def superuser():
    return UserFactory(is_staff=True, is_superuser=True)


def hub_page_data(hub, *, change: dict | None = None, delete=None) -> dict:
    """The hub's admin page as posted, every membership row as it is, except ``change``
    ({user: new user}) and ``delete`` (a user whose row is ticked for deletion)."""
    change = change or {}
    rows = list(HubMembership.objects.filter(hub=hub).order_by("pk"))
    data = {
        "name": hub.name,
        "lead_provider": hub.lead_provider_id,
        "contact_email": hub.contact_email,
        "memberships-TOTAL_FORMS": len(rows),
        "memberships-INITIAL_FORMS": len(rows),
        "memberships-MIN_NUM_FORMS": 0,
        "memberships-MAX_NUM_FORMS": 1000,
    }
    for i, row in enumerate(rows):
        data |= {
            f"memberships-{i}-id": row.pk,
            f"memberships-{i}-hub": hub.pk,
            f"memberships-{i}-user": change.get(row.user, row.user).pk,
            f"memberships-{i}-role": row.role,
        }
        if row.user == delete:
            data[f"memberships-{i}-DELETE"] = "on"
    return data


def test_removing_a_member_from_the_hub_page_inline_ends_her_work_there(client, scripts, superuser):
    window, group, mia, max_ = scripts
    hub = window.course.cohort.hub
    group.facilitators.add(mia)
    data = hub_page_data(hub, delete=mia)
    client.force_login(superuser)
    response = client.post(reverse("admin:programmes_hub_change", args=[hub.pk]), data)
    assert response.status_code == 302, response.context["errors"] if response.context else response

    assert not HubMembership.objects.filter(user=mia).exists()
    assert HubMembership.objects.filter(user=max_).exists()
    assert not group.facilitators.exists()
    assert MarkingAssignment.objects.filter(marker__isnull=True).count() == 3
    mia.refresh_from_db()
    assert not mia.is_staff
    client.force_login(mia)
    assert client.get(reverse("marking_list")).status_code == 404


def test_deleting_memberships_in_admin_ends_the_work_too(client, scripts, superuser):
    window, group, mia, max_ = scripts
    hub = window.course.cohort.hub
    client.force_login(superuser)
    client.post(
        reverse("admin:programmes_hubmembership_delete", args=[membership(mia, hub).pk]), {"post": "yes"}
    )
    assert MarkingAssignment.objects.filter(marker__isnull=True).count() == 3
    markers_assign(window=window, markers=[max_])
    client.post(
        reverse("admin:programmes_hubmembership_changelist"),
        {"action": "delete_selected", "_selected_action": [membership(max_, hub).pk], "post": "yes"},
    )
    assert not HubMembership.objects.filter(user=max_).exists()
    assert MarkingAssignment.objects.filter(marker__isnull=True).count() == 3


def test_deactivating_someone_in_admin_ends_their_facilitation_and_marking(client, scripts, superuser):
    window, group, mia, max_ = scripts
    group.facilitators.add(mia)
    calendar_feed_rotate(user=mia)
    client.force_login(superuser)
    url = reverse("admin:accounts_user_change", args=[mia.pk])
    response = client.post(
        url,
        {
            "email": mia.email,
            "full_name": mia.full_name,
            "is_staff": "on",
            # is_active left out: unticked
            "groups": list(mia.groups.values_list("pk", flat=True)),
            "date_joined_0": mia.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": mia.date_joined.strftime("%H:%M:%S"),
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    mia.refresh_from_db()
    assert not mia.is_active
    assert not group.facilitators.exists()
    assert MarkingAssignment.objects.filter(marker__isnull=True).count() == 3
    assert not CalendarFeed.objects.filter(user=mia).exists()


def test_moving_a_membership_to_another_hub_in_admin_ends_the_work_at_the_first(client, scripts, superuser):
    # Found in review: editing the membership's hub added a second membership and left Mia's
    # marking and facilitation at hub A in place.
    window, group, mia, max_ = scripts
    hub_a = window.course.cohort.hub
    group.facilitators.add(mia)
    hub_b = HubFactory()
    row = membership(mia, hub_a)
    client.force_login(superuser)
    response = client.post(
        reverse("admin:programmes_hubmembership_change", args=[row.pk]),
        {"user": mia.pk, "hub": hub_b.pk, "role": row.role, "_save": "Save"},
    )
    assert response.status_code == 302
    assert list(HubMembership.objects.filter(user=mia).values_list("hub", flat=True)) == [hub_b.pk]
    assert not group.facilitators.exists()
    assert MarkingAssignment.objects.filter(marker__isnull=True).count() == 3
    client.force_login(mia)  # staff at hub B now: hub A's scripts are out of her reach
    for assignment in MarkingAssignment.objects.all():
        assert client.get(reverse("marking_script", args=[assignment.pk])).status_code == 404


def test_changing_who_holds_a_membership_on_the_hub_page_ends_the_first_persons_work(
    client, scripts, superuser
):
    window, group, mia, max_ = scripts
    hub = window.course.cohort.hub
    group.facilitators.add(mia)
    newcomer = UserFactory()
    data = hub_page_data(hub, change={mia: newcomer})
    client.force_login(superuser)
    assert client.post(reverse("admin:programmes_hub_change", args=[hub.pk]), data).status_code == 302
    assert not HubMembership.objects.filter(user=mia).exists()
    assert HubMembership.objects.filter(user=newcomer, hub=hub).exists()
    assert not group.facilitators.exists()
    assert MarkingAssignment.objects.filter(marker__isnull=True).count() == 3
