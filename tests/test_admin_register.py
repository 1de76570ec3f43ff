"""The register of an activity in admin: saved in one transaction, re-openable to correct."""

import re

import pytest
from django.urls import reverse
from django.utils.html import escape

from engagement.models import Attendance
from engagement.services import register_save
from programmes.services import EnrolmentError, participant_withdraw
from tests.factories import ActivityFactory, GroupFactory, HubStaffFactory, ParticipantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def session():
    group = GroupFactory()
    activity = ActivityFactory(group=group)
    people = [ParticipantFactory(group=group) for _ in range(3)]
    ParticipantFactory(course=group.course, group=GroupFactory(course=group.course))  # another group
    facilitator = HubStaffFactory()
    group.facilitators.add(facilitator)
    from programmes.services import sync_staff_access

    sync_staff_access(user=facilitator)
    return activity, people, facilitator


def register_url(activity):
    return reverse("admin:engagement_activity_register", args=[activity.pk])


def test_facilitator_takes_and_corrects_a_register(client, session):
    activity, (p1, p2, p3), facilitator = session
    client.force_login(facilitator)
    page = client.get(register_url(activity))
    assert page.status_code == 200
    html = page.content.decode()
    for person in (p1, p2, p3):
        assert person.user.email in html
    assert html.count('type="radio"') == 9  # 3 participants x attended/absent/excused

    marks = {f"p{p1.pk}": "attended", f"p{p2.pk}": "absent", f"p{p3.pk}": "excused"}
    response = client.post(register_url(activity), marks)
    assert response.status_code == 302
    assert dict(Attendance.objects.values_list("participant_id", "status")) == {
        p1.pk: "attended",
        p2.pk: "absent",
        p3.pk: "excused",
    }
    # Re-open: the saved marks are selected; correct one.
    html = client.get(register_url(activity)).content.decode()
    checked = re.findall(r'<input type="radio" name="p(\d+)" value="(\w+)"[^>]*checked', html)
    assert sorted(checked) == sorted((str(p.pk), marks[f"p{p.pk}"]) for p in (p1, p2, p3))
    client.post(register_url(activity), {**marks, f"p{p2.pk}": "attended"})
    corrected = Attendance.objects.get(participant=p2)
    assert corrected.status == "attended"
    assert list(corrected.history.order_by("history_date").values_list("status", flat=True)) == [
        "absent",
        "attended",
    ]


def test_a_register_with_a_missing_mark_saves_nothing_and_says_who(client, session):
    activity, (p1, p2, p3), facilitator = session
    client.force_login(facilitator)
    response = client.post(register_url(activity), {f"p{p1.pk}": "attended", f"p{p2.pk}": "absent"})
    assert response.status_code == 200
    assert (
        f"Mark {escape(p3.user.get_full_name())} as attended, absent or excused." in response.content.decode()
    )
    assert not Attendance.objects.exists()


def test_register_save_is_atomic_when_a_write_fails_midway(session, monkeypatch):
    activity, (p1, p2, p3), facilitator = session
    original_save = Attendance.save
    calls = []

    def failing_save(self, *args, **kwargs):
        calls.append(self.participant_id)
        if len(calls) == 2:
            raise RuntimeError("database went away")
        return original_save(self, *args, **kwargs)

    monkeypatch.setattr(Attendance, "save", failing_save)
    with pytest.raises(RuntimeError):
        register_save(
            activity=activity, marks={p1.pk: "attended", p2.pk: "absent", p3.pk: "attended"}, by=facilitator
        )
    assert len(calls) == 2  # the first row was written before the failure...
    assert not Attendance.objects.exists()  # ...and rolled back with the rest


def test_register_refuses_someone_not_on_it(session):
    activity, (p1, *_), facilitator = session
    outsider = ParticipantFactory()
    with pytest.raises(EnrolmentError):
        register_save(activity=activity, marks={p1.pk: "attended", outsider.pk: "attended"}, by=facilitator)
    assert not Attendance.objects.exists()


def test_withdrawn_participants_leave_the_register(client, session):
    activity, (p1, p2, p3), facilitator = session
    participant_withdraw(participant=p3, reason="other")
    client.force_login(facilitator)
    html = client.get(register_url(activity)).content.decode()
    assert p3.user.email not in html and p1.user.email in html


def test_staff_of_another_hub_get_404_and_save_nothing(client, session):
    activity, (p1, *_), _ = session
    client.force_login(HubStaffFactory(hub=GroupFactory().course.cohort.hub))
    assert client.get(register_url(activity)).status_code == 404
    assert client.post(register_url(activity), {f"p{p1.pk}": "attended"}).status_code == 404
    assert not Attendance.objects.exists()


def test_mark_everyone_attended_fills_the_form_without_script_then_exceptions_are_saved(client, session):
    activity, (p1, p2, p3), facilitator = session
    client.force_login(facilitator)
    html = client.get(register_url(activity)).content.decode()
    # A plain GET button: no JavaScript (the Content-Security-Policy allows none inline anyway).
    assert '<form method="get" id="mark-all">' in html
    assert (
        '<button type="submit" name="mark_all" value="attended" class="button">Mark everyone attended</button>'
        in html
    )
    assert "<script>" not in html and "onclick" not in html
    assert "Not taken yet" in html
    page = client.get(register_url(activity), {"mark_all": "attended"})
    html = page.content.decode()
    checked = re.findall(r'<input type="radio" name="p(\d+)" value="(\w+)"[^>]*checked', html)
    assert sorted(checked) == sorted((str(p.pk), "attended") for p in (p1, p2, p3))
    assert "Everyone is marked attended below" in html
    assert not Attendance.objects.exists()  # nothing saved until the register is
    assert f'action="{register_url(activity)}"' in html  # saving does not carry mark_all along
    response = client.post(
        register_url(activity), {f"p{p1.pk}": "attended", f"p{p2.pk}": "absent", f"p{p3.pk}": "attended"}
    )
    assert response.status_code == 302
    assert dict(Attendance.objects.values_list("participant_id", "status")) == {
        p1.pk: "attended",
        p2.pk: "absent",
        p3.pk: "attended",
    }
    html = client.get(register_url(activity)).content.decode()
    assert "Register taken:" in html and escape(facilitator.get_full_name()) in html


def test_mark_everyone_attended_on_a_taken_register_changes_nothing_until_saved(client, session):
    activity, (p1, p2, p3), facilitator = session
    register_save(
        activity=activity, marks={p1.pk: "absent", p2.pk: "absent", p3.pk: "excused"}, by=facilitator
    )
    client.force_login(facilitator)
    html = client.get(register_url(activity), {"mark_all": "attended"}).content.decode()
    assert len(re.findall(r'value="attended"[^>]*checked', html)) == 3
    assert set(Attendance.objects.values_list("status", flat=True)) == {"absent", "excused"}


def test_saving_a_register_records_it_for_the_groups_on_it(session):
    from engagement.models import Register

    activity, (p1, p2, p3), facilitator = session
    register_save(activity=activity, marks={p1.pk: "attended"}, by=facilitator)
    register_save(activity=activity, marks={p1.pk: "attended", p2.pk: "absent"}, by=facilitator)
    register = Register.objects.get()  # one per activity and group, saved again
    assert (register.group_id, register.taken_by) == (activity.group_id, facilitator)
