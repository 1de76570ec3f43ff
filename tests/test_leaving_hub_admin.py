"""Leaving a hub through admin (the hub page's memberships inline, deleting memberships,
deactivating an account, moving or handing over a membership) ends the person's work there as
the services do (tests/test_leaving_hub.py): scripts back to the pool, facilitation ended."""

import pytest
from django.urls import reverse

from assessment.models import MarkingAssignment
from assessment.services import markers_assign
from engagement.models import CalendarFeed
from engagement.services import calendar_feed_rotate
from programmes.models import HubMembership
from tests.factories import HubFactory, UserFactory
from tests.leaving_hub_support import membership, scripts_given_to_mia

pytestmark = pytest.mark.django_db


@pytest.fixture
def scripts():
    return scripts_given_to_mia()


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
