"""Hub staff see and change only their own hub's rows; facilitators only their groups'.

The matrix: every hub-scoped admin model x (Sam: hub A admin, Oscar: hub B admin, Fran: a
facilitator of one group in hub A, Ada: superuser) x (list, change, delete, action).
"""

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from engagement.models import Activity, Attendance
from engagement.services import register_save
from programmes.models import Cohort, Course, Group, Hub, HubMembership, Participant, Programme
from tests.factories import (
    ActivityFactory,
    CohortFactory,
    CourseFactory,
    GroupFactory,
    HubFactory,
    HubStaffFactory,
    ParticipantFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@dataclass
class HubRows:
    hub: Hub
    cohort: Cohort
    course: Course
    group: Group  # Fran facilitates hub A's first group
    other_group: Group
    activity: Activity
    other_activity: Activity
    course_activity: Activity
    participant: Participant
    other_participant: Participant
    attendance: Attendance
    other_attendance: Attendance


def make_hub(name: str, facilitator=None, admin=None) -> HubRows:
    hub = HubFactory(name=name)
    cohort = CohortFactory(hub=hub, identifier="2025-autumn")
    course = CourseFactory(cohort=cohort)
    group, other_group = GroupFactory(course=course), GroupFactory(course=course)
    if facilitator:
        HubMembership.objects.create(hub=hub, user=facilitator, role=HubMembership.Role.FACILITATOR)
        group.facilitators.add(facilitator)
        from programmes.services import sync_staff_access

        sync_staff_access(user=facilitator)
    activity, other_activity = ActivityFactory(group=group), ActivityFactory(group=other_group)
    course_activity = ActivityFactory(group=None, course=course, title=f"{name} conference")
    participant, other_participant = ParticipantFactory(group=group), ParticipantFactory(group=other_group)
    marker = admin or UserFactory()
    register_save(activity=activity, marks={participant.pk: "attended"}, by=marker)
    register_save(activity=other_activity, marks={other_participant.pk: "absent"}, by=marker)
    return HubRows(
        hub,
        cohort,
        course,
        group,
        other_group,
        activity,
        other_activity,
        course_activity,
        participant,
        other_participant,
        Attendance.objects.get(activity=activity),
        Attendance.objects.get(activity=other_activity),
    )


@pytest.fixture
def cast():
    fran = HubStaffFactory(email="fran@hub-a.example")
    a = make_hub("Hub A", facilitator=fran)
    b = make_hub("Hub B")
    sam = HubStaffFactory(email="sam@hub-a.example", hub=a.hub)
    oscar = HubStaffFactory(email="oscar@hub-b.example", hub=b.hub)
    ada = UserFactory(email="ada@npq.example", is_staff=True, is_superuser=True)
    return {"a": a, "b": b, "sam": sam, "oscar": oscar, "fran": fran, "ada": ada}


# model -> the rows of a hub of that model; and which of them a facilitator of `group` sees.
MODELS = {
    "hub": (lambda r: [r.hub], lambda r: [r.hub]),
    "cohort": (lambda r: [r.cohort], lambda r: [r.cohort]),
    "course": (lambda r: [r.course], lambda r: [r.course]),
    "group": (lambda r: [r.group, r.other_group], lambda r: [r.group]),
    "activity": (
        lambda r: [r.activity, r.other_activity, r.course_activity],
        lambda r: [r.activity, r.course_activity],
    ),
    "participant": (lambda r: [r.participant, r.other_participant], lambda r: [r.participant]),
    "attendance": (lambda r: [r.attendance, r.other_attendance], lambda r: [r.attendance]),
}


def expected_visible(cast, user_key: str, model: str) -> tuple[set, set]:
    every, facilitated = MODELS[model]
    a_rows, b_rows = every(cast["a"]), every(cast["b"])
    visible = {
        "ada": a_rows + b_rows,
        "sam": a_rows,
        "oscar": b_rows,
        "fran": facilitated(cast["a"]),
    }[user_key]
    hidden = [row for row in a_rows + b_rows if row not in visible]
    return {row.pk for row in visible}, {row.pk for row in hidden}


# The app each model belongs to (the admin's URL names start with it).
APP = {"activity": "engagement", "attendance": "engagement"}


def admin_name(model: str, view: str) -> str:
    return f"admin:{APP.get(model, 'programmes')}_{model}_{view}"


def change_url(model: str, pk: int) -> str:
    return reverse(admin_name(model, "change"), args=[pk])


@pytest.mark.parametrize("model", list(MODELS))
@pytest.mark.parametrize("user_key", ["sam", "oscar", "fran", "ada"])
def test_scoping_matrix(client, cast, model, user_key):
    client.force_login(cast[user_key])
    visible, hidden = expected_visible(cast, user_key, model)

    # List: exactly the visible rows.
    response = client.get(reverse(admin_name(model, "changelist")))
    assert response.status_code == 200
    listed = {row.pk for row in response.context["cl"].result_list}
    assert listed == visible

    # Change page: visible rows open; hidden ones are "not found" (redirect), never shown.
    for pk in visible:
        assert client.get(change_url(model, pk)).status_code == 200
    for pk in hidden:
        response = client.get(change_url(model, pk))
        assert response.status_code == 302 and response["Location"] == reverse("admin:index")

    # Delete of a hidden row never deletes it.
    model_class = type(MODELS[model][0](cast["a"])[0])
    for pk in hidden:
        client.post(reverse(admin_name(model, "delete"), args=[pk]), {"post": "yes"})
        assert model_class.objects.filter(pk=pk).exists()

    # Action (CSV export) on every row's id exports only the visible ones.
    everything = [row.pk for row in MODELS[model][0](cast["a"]) + MODELS[model][0](cast["b"])]
    response = client.post(
        reverse(admin_name(model, "changelist")),
        {"action": "export_as_csv", "_selected_action": everything},
    )
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    exported_rows = response.content.decode().strip().splitlines()[1:]
    assert len(exported_rows) == len(visible)


def test_hub_admin_deletes_own_activity_but_facilitator_cannot(client, cast):
    activity = cast["a"].course_activity
    client.force_login(cast["fran"])
    client.post(reverse("admin:engagement_activity_delete", args=[activity.pk]), {"post": "yes"})
    assert Activity.objects.filter(pk=activity.pk).exists()
    client.force_login(cast["sam"])
    client.post(reverse("admin:engagement_activity_delete", args=[activity.pk]), {"post": "yes"})
    assert not Activity.objects.filter(pk=activity.pk).exists()


def test_an_activity_with_marks_is_not_deleted_by_hub_staff(client, cast):
    # Deleting it would delete attendance marks, which hub staff may not delete.
    activity = cast["a"].activity
    client.force_login(cast["sam"])
    response = client.post(reverse("admin:engagement_activity_delete", args=[activity.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert Attendance.objects.filter(activity=activity).exists()


def test_a_hidden_row_cannot_be_changed_by_posting_to_it(client, cast):
    cohort = cast["a"].cohort
    client.force_login(cast["oscar"])
    client.post(
        change_url("cohort", cohort.pk),
        {
            "hub": cast["b"].hub.pk,
            "identifier": "stolen",
            "start_date": "2025-10-01",
            "registration_opens_on": "2025-06-01",
            "registration_closes_on": "2025-09-15",
            "funding_model": "full",
            "funding_round": cohort.funding_round_id,
        },
    )
    cohort.refresh_from_db()
    assert cohort.identifier == "2025-autumn" and cohort.hub == cast["a"].hub


def test_hub_choices_filters_and_autocomplete_show_only_own_hub(client, cast):
    client.force_login(cast["oscar"])
    add_page = client.get(reverse("admin:programmes_cohort_add"))
    assert list(add_page.context["adminform"].form.fields["hub"].queryset) == [cast["b"].hub]

    changelist = client.get(reverse("admin:programmes_participant_changelist")).content.decode()
    assert "Hub A" not in changelist and cast["a"].participant.user.email not in changelist

    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "engagement", "model_name": "activity", "field_name": "group", "term": ""},
    )
    assert response.status_code == 200
    ids = {int(result["id"]) for result in response.json()["results"]}
    assert ids == {cast["b"].group.pk, cast["b"].other_group.pk}


def test_facilitator_cannot_add_cohorts_or_change_participants(client, cast):
    client.force_login(cast["fran"])
    assert client.get(reverse("admin:programmes_cohort_add")).status_code == 403
    participant = cast["a"].participant
    response = client.get(reverse("admin:programmes_participant_status", args=[participant.pk, "withdraw"]))
    assert response.status_code == 403


def test_role_groups_carry_only_their_permissions(cast):
    fran_perms = cast["fran"].get_all_permissions()
    assert "engagement.change_attendance" in fran_perms
    assert "programmes.change_participant" not in fran_perms
    assert "programmes.add_cohort" in cast["sam"].get_all_permissions()
    assert not Permission.objects.filter(user=cast["sam"]).exists()  # only through the group


def test_a_groups_activity_always_belongs_to_the_groups_course(client, cast):
    a = cast["a"]
    client.force_login(cast["sam"])
    other_course = CourseFactory(cohort=a.cohort, programme=Programme.objects.get(code="NPQSL"))
    response = client.post(
        reverse("admin:engagement_activity_change", args=[a.activity.pk]),
        {
            "course": other_course.pk,
            "group": a.group.pk,
            "code": a.activity.code,
            "kind": "seminar",
            "title": "Moved?",
            "starts_at_0": "2025-11-05",
            "starts_at_1": "16:00",
            "ends_at_0": "",
            "ends_at_1": "",
            "due_on": "",
            "weight": "1",
            "required": "on",
            "counts_towards_engagement": "on",
        },
    )
    assert response.status_code == 302
    a.activity.refresh_from_db()
    assert a.activity.title == "Moved?" and a.activity.course_id == a.group.course_id
