"""Holes found by a hostile review of the privacy, DfE link, funded places and waiting list
features: each test failed before its fix."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dfe.services import lead_provider_staff_add
from privacy.services import export_request
from programmes.models import HubMembership
from tests.factories import (
    HubFactory,
    HubStaffFactory,
    LeadProviderFactory,
    ParticipantFactory,
    UserFactory,
)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def two_factor_client(client, user):
    client.force_login(user)
    session = client.session
    session["account_authentication_methods"] = [{"method": "mfa", "type": "totp", "at": 0}]
    session.save()
    return client


@pytest.mark.django_db
def test_a_copy_of_someone_elses_data_needs_two_factor_outside_admin(
    client, media, django_capture_on_commit_callbacks
):
    """The download is not under /admin/, so the two-factor middleware does not guard it: a hub
    administrator or superuser who never set up an authenticator (password only) must not get a
    copy of another person's data there; the person downloads their own copy as before."""
    person = ParticipantFactory().user
    hub = person.enrolments.get().course.cohort.hub
    admin_without_app = HubStaffFactory(hub=hub, two_factor=False)
    superuser_without_app = UserFactory(is_staff=True, is_superuser=True, two_factor=False)
    with django_capture_on_commit_callbacks(execute=True):
        export = export_request(person=person, requested_by=admin_without_app, hub_id=hub.pk)
    url = reverse("privacy_export_download", args=[export.pk])
    for user in (admin_without_app, superuser_without_app):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code != 200, user
        assert response.get("Content-Type") != "application/zip"
    client.force_login(person)
    assert client.get(url).status_code == 200


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
@pytest.mark.parametrize("value", ["²", "¹²³", "٣x", "9" * 40])
def test_the_privacy_notice_takes_any_hub_parameter(client, value):
    """``str.isdigit`` accepts '²', which ``int`` refuses: a 500 on a query string."""
    response = client.get(reverse("privacy_notice"), {"hub": value})
    assert response.status_code == 200


@pytest.mark.django_db
def test_an_application_page_with_a_superscript_digit_is_not_found(client):
    hub = HubFactory()
    staff = HubStaffFactory(hub=hub)
    two_factor_client(client, staff)
    response = client.get("/admin/applications/application/%C2%B2/change/")
    assert response.status_code in (302, 404)


@pytest.mark.django_db
def test_a_hubs_administrators_cannot_shorten_the_access_log_of_their_own_hub(client):
    """The access log records what hub staff viewed: the audited must not set how long it is
    kept (a rule of 0 days for their hub made the nightly job delete every entry about them)."""
    from privacy.models import AccessLogEntry, RetentionRule
    from privacy.retention import rows_due

    hub = HubFactory()
    admin_of_hub = HubStaffFactory(hub=hub)
    entry = AccessLogEntry.objects.create(
        at=timezone.now(), by=admin_of_hub, action="viewed", what="Participant page #1", hub=hub
    )
    two_factor_client(client, admin_of_hub)
    response = client.post(
        reverse("admin:privacy_retentionrule_add"),
        {"kind": "access_log", "hub": hub.pk, "period": 0, "unit": "days", "enabled": "on"},
    )
    assert response.status_code == 200
    assert not RetentionRule.objects.filter(kind="access_log", hub=hub).exists()
    # A superuser's rule for the hub is not theirs to change or remove either.
    rule = RetentionRule.objects.create(kind="access_log", hub=hub, period=3, unit="years")
    change = reverse("admin:privacy_retentionrule_change", args=[rule.pk])
    client.post(change, {"kind": "access_log", "hub": hub.pk, "period": 0, "unit": "days", "enabled": "on"})
    client.post(reverse("admin:privacy_retentionrule_delete", args=[rule.pk]), {"post": "yes"})
    rule.refresh_from_db()
    assert (rule.period, rule.unit) == (3, "years")
    assert entry not in rows_due("access_log", timezone.now() + timedelta(days=1))
    # Their own hub's other kinds stay theirs to set.
    client.post(
        reverse("admin:privacy_retentionrule_add"),
        {"kind": "attendance", "hub": hub.pk, "period": 3, "unit": "years", "enabled": "on"},
    )
    assert RetentionRule.objects.filter(kind="attendance", hub=hub).exists()


@pytest.mark.django_db
def test_the_dfe_application_and_funding_review_pages_are_in_the_access_log(client):
    """Both show a person's name, email and (DfE's) teacher reference number or employment: a
    hub's staff reading them are recorded like on the application's own page."""
    import uuid

    from applications.services import application_submit
    from dfe.models import DfeApplication
    from funding.models import FundingReview
    from privacy.models import AccessLogEntry
    from tests.factories import ApplicationFactory, northfield_schools

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
    review = FundingReview.objects.get_or_create(decision=application.funding_decision)[0]
    two_factor_client(client, HubStaffFactory(hub=hub))
    for name, pk in (
        ("admin:dfe_dfeapplication_change", dfe_app.pk),
        ("admin:funding_fundingreview_change", review.pk),
    ):
        assert client.get(reverse(name, args=[pk])).status_code == 200, name
        entry = AccessLogEntry.objects.filter(action="viewed").latest("pk")
        assert entry.what.endswith(f"#{pk}") and (entry.person_id, entry.hub_id) == (
            application.user_id,
            hub.pk,
        ), name


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
def test_a_hubs_administrators_cannot_schedule_erasures(client, django_capture_on_commit_callbacks):
    """Erasure is for superusers. A hub's rule for 'Everything about a participant' of 0 days
    had the nightly job erase, the night after they withdrew, the whole account (sign-in, and
    their records at every other hub too)."""
    from privacy.models import ErasureRecord, RetentionRule
    from privacy.retention import retention_apply
    from programmes.services import participant_withdraw

    participant = ParticipantFactory()
    hub = participant.course.cohort.hub
    admin_of_hub = HubStaffFactory(hub=hub)
    two_factor_client(client, admin_of_hub)
    response = client.post(
        reverse("admin:privacy_retentionrule_add"),
        {"kind": "participants", "hub": hub.pk, "period": 0, "unit": "days", "enabled": "on"},
    )
    assert response.status_code == 200
    assert not RetentionRule.objects.filter(kind="participants", hub=hub).exists()
    participant_withdraw(participant=participant, reason="other", by=admin_of_hub)
    with django_capture_on_commit_callbacks(execute=True):
        retention_apply(now=timezone.now() + timedelta(days=2))
    assert not ErasureRecord.objects.filter(account_id=participant.user_id).exists()


@pytest.mark.django_db
def test_a_copy_being_made_while_its_person_is_erased_leaves_no_file(media, monkeypatch):
    """Erasure deletes the person's copies; a worker making one at that moment saved its ZIP
    (everything about the erased person) for no record: an orphan the schedule kept 30 days."""
    from privacy import services
    from privacy.models import SubjectAccessExport

    person = ParticipantFactory().user
    export = SubjectAccessExport.objects.create(person=person, requested_by=person, created_at=timezone.now())
    real = services._export_section
    erased = []

    def section_then_erase(entry, who, hub_id=None):
        if not erased:  # the erasure commits while the worker reads
            services.erase_person(person=person, by=None)
            erased.append(True)
        return real(entry, who, hub_id)

    monkeypatch.setattr(services, "_export_section", section_then_erase)
    services.export_build(export.pk)
    assert not SubjectAccessExport.objects.filter(pk=export.pk).exists()
    assert not list(media.rglob("*.zip"))


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
