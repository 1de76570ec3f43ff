"""Holes found by a hostile review of the privacy features (copies of a person's data, the
notice, the access log, retention rules and erasure): each test failed before its fix. The
review's holes in the DfE link, funded places and staff pages are in test_attack_review_admin.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from privacy.services import export_request
from tests.factories import HubFactory, HubStaffFactory, ParticipantFactory, UserFactory
from tests.privacy_support import two_factor_client


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


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
@pytest.mark.parametrize("value", ["²", "¹²³", "٣x", "9" * 40])
def test_the_privacy_notice_takes_any_hub_parameter(client, value):
    """``str.isdigit`` accepts '²', which ``int`` refuses: a 500 on a query string."""
    response = client.get(reverse("privacy_notice"), {"hub": value})
    assert response.status_code == 200


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
