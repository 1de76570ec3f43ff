"""Holes found by a hostile review of the DfE link, funded places and waiting list features: who
reaches the new staff pages, and what hostile ids, query strings and tokens do to them; each
test failed before its fix. The review's privacy holes are in test_attack_review_privacy.py."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from dfe.services import lead_provider_staff_add
from privacy.services import export_request
from programmes.models import HubMembership
from tests.factories import HubFactory, HubStaffFactory, LeadProviderFactory, ParticipantFactory, UserFactory
from tests.privacy_support import two_factor_client


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.mark.django_db
def test_a_hub_moved_to_another_lead_provider_leaves_the_old_providers_staff(client):
    """Lead provider staff administer the provider's hubs as hub memberships; a hub given to
    another provider must not stay administered by the previous provider's staff (they would keep
    reading its people's applications, funding and DfE records)."""
    old, new = LeadProviderFactory(), LeadProviderFactory()
    hub = HubFactory(lead_provider=old)
    old_staff, new_staff = UserFactory(is_staff=True), UserFactory(is_staff=True)
    lead_provider_staff_add(lead_provider=old, user=old_staff)
    lead_provider_staff_add(lead_provider=new, user=new_staff)
    own_admin = HubStaffFactory(hub=hub)  # the hub's own administrator stays
    assert HubMembership.objects.filter(hub=hub, user=old_staff).exists()

    hub.lead_provider = new
    hub.save()

    admins = set(HubMembership.objects.filter(hub=hub).values_list("user_id", flat=True))
    assert admins == {new_staff.pk, own_admin.pk}
    old_staff.refresh_from_db()
    assert not old_staff.is_staff  # no hub left: admin access follows the roles


@pytest.mark.django_db
def test_an_application_page_with_a_superscript_digit_is_not_found(client):
    hub = HubFactory()
    staff = HubStaffFactory(hub=hub)
    two_factor_client(client, staff)
    response = client.get("/admin/applications/application/%C2%B2/change/")
    assert response.status_code in (302, 404)


ADMIN_HOSTILE_IDS = ["²", "99999999999999999999", "0", "-1", "%00", "1%00"]
ADMIN_HOSTILE_QUERIES = [
    {"q": "\x00"},
    {"q": "²" * 300},
    {"status__exact": "\x00"},
    {"state__exact": "nonsense", "action__exact": "\x00"},
    {"age": "²"},
    {"offer": "\x00"},
    {"at__year": "²", "at__month": "99999999999999999999"},
    {"p": "99999999999999999999"},
    {"o": "99.-1"},
    {"decision__course__cohort__id__exact": "²"},
]
NEW_ADMIN_MODELS = [
    "dfe/dfeapplication",
    "dfe/dfewrite",
    "dfe/syncrun",
    "dfe/leadprovideraccount",
    "dfe/deliverypartner",
    "dfe/dfecohort",
    "dfe/leadproviderstaff",
    "privacy/subjectaccessexport",
    "privacy/erasurerecord",
    "privacy/retentionrule",
    "privacy/accesslogentry",
    "funding/fundingreview",
    "funding/fundingdecision",
    "funding/eligibilitylistchange",
    "funding/importrun",
    "programmes/freedplace",
    "applications/application",
]
NEW_ADMIN_OBJECT_URLS = [
    "/admin/applications/application/{}/funded-place/",
    "/admin/dfe/dfeapplication/{}/change-schedule/",
    "/admin/funding/importrun/{}/confirm/",
]


@pytest.mark.django_db
def test_new_admin_pages_take_hostile_ids_and_query_strings_without_a_500(client):
    """Every new admin list with hostile filters and search, every new object page with ids
    that are not ones (a superscript digit, beyond bigint, a NUL): never a 500."""
    hub = HubFactory()
    people = [UserFactory(is_staff=True, is_superuser=True), HubStaffFactory(hub=hub)]
    client.raise_request_exception = False
    failed = []

    def check(user, method, url, data=None):
        response = getattr(client, method)(url, data)
        if response.status_code >= 500:
            failed.append((user.is_superuser, method, url, data))

    for user in people:
        two_factor_client(client, user)
        for model in NEW_ADMIN_MODELS:
            for query in ADMIN_HOSTILE_QUERIES:
                check(user, "get", f"/admin/{model}/", query)
            for object_id in ADMIN_HOSTILE_IDS:
                for suffix in ("change/", "history/", "delete/"):
                    check(user, "get", f"/admin/{model}/{object_id}/{suffix}")
        for pattern in NEW_ADMIN_OBJECT_URLS:
            for object_id in ("99999999999999999999", "0"):
                check(user, "get", pattern.format(object_id))
                check(user, "post", pattern.format(object_id), {"decision": "\x00"})
    assert not failed, "\n".join(map(repr, failed))


@pytest.mark.django_db
def test_no_one_outside_a_hub_opens_its_new_staff_pages(client, media, django_capture_on_commit_callbacks):
    """Every new object URL of hub A, tried by an outsider, a participant, a headteacher (an
    endorser), a facilitator of hub A, an administrator of hub B and a lead provider's staff of
    another provider: none gets the page (a redirect to sign in, 403 or 404)."""
    import uuid

    from applications.services import application_submit
    from dfe.models import DfeApplication, DfeWrite
    from funding.models import FundingReview
    from programmes.models import FreedPlace
    from tests.factories import ApplicationFactory, GroupFactory, northfield_schools

    northfield_schools()
    application = ApplicationFactory()
    application_submit(application=application, by=application.user)
    application.refresh_from_db()
    hub = application.cohort.hub
    now = timezone.now()
    dfe_app = DfeApplication.objects.create(
        dfe_id=uuid.uuid4(),
        lead_provider=hub.lead_provider,
        participant_id=uuid.uuid4(),
        course_identifier="npq-headship",
        full_name="Bo Bell",
        trn="1234567",
        dfe_updated_at=now,
        first_seen_at=now,
        last_seen_at=now,
        application=application,
    )
    write = DfeWrite.objects.create(dfe_application=dfe_app, action="reject", payload={}, created_at=now)
    review = FundingReview.objects.get_or_create(decision=application.funding_decision)[0]
    group = GroupFactory(course=application.course)
    participant = ParticipantFactory(group=group)
    freed = FreedPlace.objects.create(course=application.course, participant=participant, freed_at=now)
    with django_capture_on_commit_callbacks(execute=True):
        export = export_request(person=application.user, requested_by=application.user, hub_id=hub.pk)
    urls = [
        reverse("admin:dfe_dfeapplication_change", args=[dfe_app.pk]),
        reverse("admin:dfe_dfeapplication_schedule", args=[dfe_app.pk]),
        reverse("admin:dfe_dfewrite_change", args=[write.pk]),
        reverse("admin:applications_application_funded_place", args=[application.pk]),
        reverse("admin:applications_application_change", args=[application.pk]),
        reverse("admin:funding_fundingreview_change", args=[review.pk]),
        reverse("admin:funding_fundingreview_history", args=[review.pk]),
        reverse("admin:programmes_freedplace_change", args=[freed.pk]),
        reverse("admin:privacy_subjectaccessexport_change", args=[export.pk]),
        reverse("privacy_export_download", args=[export.pk]),
    ]
    other_hub = HubFactory()
    other_provider_staff = UserFactory(is_staff=True)
    lead_provider_staff_add(lead_provider=other_hub.lead_provider, user=other_provider_staff)
    facilitator = HubStaffFactory(hub=hub, hub__role=HubMembership.Role.FACILITATOR)
    group.facilitators.add(facilitator)
    headteacher = UserFactory(email=application.answers.get("headteacher_email") or "head@school.example")
    visitors = {
        "outsider": None,
        "participant": participant.user,
        "headteacher": headteacher,
        "facilitator of the hub": facilitator,
        "administrator of another hub": HubStaffFactory(hub=other_hub),
        "another provider's staff": other_provider_staff,
    }
    opened = []
    for who, user in visitors.items():
        client.logout()
        if user is not None:
            two_factor_client(client, user) if user.is_staff else client.force_login(user)
        for url in urls:
            response = client.get(url)
            if response.status_code == 200:
                opened.append((who, url))
    assert not opened
    # The hub's own administrator does open them (the schedule once DfE has accepted).
    two_factor_client(client, HubStaffFactory(hub=hub))
    assert [client.get(url).status_code for url in urls if "change-schedule" not in url] == [200] * 9


@pytest.mark.django_db
def test_the_page_benchmarks_url_is_not_served_by_the_portal(client, settings):
    """bench/urls.py adds a signed-in page for the benchmark's baseline: only bench.settings
    loads it; the portal's own URLs (and so production) have no such page."""
    from django.urls import NoReverseMatch

    assert settings.ROOT_URLCONF == "npq_portal.urls"
    assert not any(app == "bench" or app.startswith("bench.") for app in settings.INSTALLED_APPS)
    with pytest.raises(NoReverseMatch):
        reverse("bench_signed_in")
    client.force_login(UserFactory())
    assert client.get("/bench/signed-in").status_code == 404


@pytest.mark.django_db
def test_a_dfe_token_that_cannot_go_in_a_header_is_refused_at_the_field(client, settings):
    """A token pasted with a character outside ASCII (a smart quote, '€', a line break) was
    stored; every sync then died sending it (UnicodeEncodeError, not a DfE error), its run never
    finished and never said why."""
    from cryptography.fernet import Fernet

    from dfe.models import LeadProviderAccount

    settings.DFE_TOKEN_KEY = Fernet.generate_key().decode()
    account = LeadProviderAccount.objects.create(lead_provider=LeadProviderFactory())
    two_factor_client(client, UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:dfe_leadprovideraccount_change", args=[account.pk])
    for token in ("abc€def", "abc\u201cdef", "abc\ndef"):
        page = client.post(url, {"token": token, "applications_cursor_0": "", "applications_cursor_1": ""})
        assert page.status_code == 200, token
        assert "letters, digits" in page.content.decode()
        account.refresh_from_db()
        assert not account.has_token
