"""Hub staff enrol participants and change their status from admin, through the services."""

import pytest
from django.urls import reverse

from programmes.models import Participant, Programme
from tests.factories import GroupFactory, HubStaffFactory, ParticipantFactory, UserFactory

pytestmark = pytest.mark.django_db


def status_url(participant, change):
    return reverse("admin:programmes_participant_status", args=[participant.pk, change])


@pytest.fixture
def sam_and_participant(client):
    participant = ParticipantFactory()
    sam = HubStaffFactory(hub=participant.course.cohort.hub)
    client.force_login(sam)
    return sam, participant


def test_withdraw_from_admin_with_a_dfe_reason(client, sam_and_participant):
    sam, participant = sam_and_participant
    page = client.get(reverse("admin:programmes_participant_change", args=[participant.pk])).content.decode()
    assert status_url(participant, "withdraw") in page and status_url(participant, "defer") in page

    response = client.post(status_url(participant, "withdraw"), {"reason": "", "on": ""})
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    participant.refresh_from_db()
    assert participant.status == "active"

    response = client.post(status_url(participant, "withdraw"), {"reason": "change-in-school-circumstances"})
    assert response.status_code == 302
    participant.refresh_from_db()
    assert (participant.status, participant.status_reason) == ("withdrawn", "change-in-school-circumstances")
    assert participant.history.latest().history_user == sam
    history_page = client.get(reverse("admin:programmes_participant_history", args=[participant.pk]))
    assert history_page.status_code == 200


def test_move_group_offers_only_groups_of_the_same_course(client, sam_and_participant):
    sam, participant = sam_and_participant
    same_course = GroupFactory(course=participant.course)
    GroupFactory(
        course__cohort=participant.course.cohort, course__programme=Programme.objects.get(code="NPQSL")
    )
    form = client.get(status_url(participant, "move")).context["form"]
    assert list(form.fields["group"].queryset) == [same_course]
    client.post(status_url(participant, "move"), {"group": same_course.pk})
    participant.refresh_from_db()
    assert participant.group == same_course


def test_resume_is_refused_for_an_active_participant_with_a_message(client, sam_and_participant):
    _, participant = sam_and_participant
    response = client.post(status_url(participant, "resume"), {})
    assert response.status_code == 200
    assert "Only a deferred participant can resume." in response.content.decode()


def test_enrol_an_existing_account_by_email(client, sam_and_participant):
    _, participant = sam_and_participant
    teacher = UserFactory(email="new.teacher@school.example")
    add_url = reverse("admin:programmes_participant_add")
    data = {
        "email": "nobody@school.example",
        "course": participant.course_id,
        "group": participant.group_id,
        "trn": "1234567",
        "mentor_name": "",
        "mentor_email": "",
    }
    response = client.post(add_url, data)
    assert "No account uses this email address" in response.content.decode()
    response = client.post(add_url, {**data, "email": "New.Teacher@school.example"})
    assert response.status_code == 302
    enrolled = Participant.objects.get(user=teacher)
    assert enrolled.group.enrolled == 2
    response = client.post(add_url, {**data, "email": teacher.email})
    assert "already enrolled" in response.content.decode()


def test_another_hubs_participant_cannot_be_withdrawn(client, sam_and_participant):
    _, participant = sam_and_participant
    stranger = ParticipantFactory()
    response = client.post(status_url(stranger, "withdraw"), {"reason": "other"})
    assert response.status_code == 404
    stranger.refresh_from_db()
    assert stranger.status == "active"
