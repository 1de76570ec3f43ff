"""Staff pages built for a large hub: the scoping read once per request sees exactly the rows
``visible_to`` does, the group filter is a labelled name search, and the course engagement
page pages its at-risk list and counts each group's spread in the database."""

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.test import RequestFactory
from django.urls import reverse

from engagement.models import EngagementTally
from engagement.selectors import course_engagement
from engagement.tally import distribution
from programmes.models import Group, HubMembership, Participant
from programmes.selectors import HUB_PATHS, visible_to
from programmes.staff_scope import visible_in_request
from tests.factories import (
    ActivityFactory,
    GroupFactory,
    HubStaffFactory,
    ParticipantFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 1, 10, 9, tzinfo=UTC)


def tally(participant: Participant, percent, *, on_track: bool | None = None) -> EngagementTally:
    return EngagementTally.objects.create(
        participant=participant,
        percent=None if percent is None else Decimal(percent),
        due_weight=1,
        on_track=(percent is not None and percent >= 90) if on_track is None else on_track,
        computed_at=NOW,
    )


def test_the_request_scope_sees_exactly_the_rows_visible_to_sees():
    here, there = GroupFactory(), GroupFactory()
    hub, other_hub = here.course.cohort.hub, there.course.cohort.hub
    second = GroupFactory(course=here.course)
    for group in (here, second, there):
        ParticipantFactory(group=group)
        ActivityFactory(group=group)
    ActivityFactory(group=None, course=here.course)  # a course-wide activity
    admin = HubStaffFactory(hub=hub)
    facilitator = HubStaffFactory(hub=hub, hub__role=HubMembership.Role.FACILITATOR)
    here.facilitators.add(facilitator)
    admin_facilitating_at_home = HubStaffFactory(hub=hub)
    here.facilitators.add(admin_facilitating_at_home)
    admin_facilitating_elsewhere = HubStaffFactory(hub=hub)
    HubMembership.objects.create(
        hub=other_hub, user=admin_facilitating_elsewhere, role=HubMembership.Role.FACILITATOR
    )
    there.facilitators.add(admin_facilitating_elsewhere)
    nobody = UserFactory(is_staff=True)
    superuser = UserFactory(is_staff=True, is_superuser=True)

    for user in (
        admin,
        facilitator,
        admin_facilitating_at_home,
        admin_facilitating_elsewhere,
        nobody,
        superuser,
    ):
        request = RequestFactory().get("/admin/")
        request.user = user
        for model in HUB_PATHS:
            expected = set(visible_to(model._default_manager.all(), user).values_list("pk", flat=True))
            seen = set(visible_in_request(model._default_manager.all(), request).values_list("pk", flat=True))
            assert seen == expected, (user.email, model.__name__)
    # The cases differ (the comparison is not between empty sets).
    request = RequestFactory().get("/admin/")
    request.user = admin_facilitating_elsewhere
    assert set(visible_in_request(Group.objects.all(), request)) == {here, second, there}
    request.user = facilitator
    assert set(visible_in_request(Group.objects.all(), request)) == {here}


def test_a_hub_administrator_is_scoped_by_hub_id_without_an_or(client):
    group = GroupFactory()
    request = RequestFactory().get("/admin/")
    request.user = HubStaffFactory(hub=group.course.cohort.hub)
    sql = str(visible_in_request(Participant.objects.all(), request).query)
    assert f'"programmes_cohort"."hub_id" IN ({group.course.cohort.hub_id})' in sql
    assert " OR " not in sql and "programmes_group_facilitators" not in sql


def test_the_group_filter_is_a_labelled_name_search_keeping_the_other_filters(client):
    seminars = GroupFactory(name="Tuesday seminars", capacity=10)
    evenings = GroupFactory(course=seminars.course, name="Evening group", capacity=10)
    mine = ParticipantFactory(group=seminars)
    other = ParticipantFactory(group=evenings)
    client.force_login(HubStaffFactory(hub=seminars.course.cohort.hub))
    url = reverse("admin:programmes_participant_changelist")

    page = client.get(url, {"status__exact": "active", "group__name__icontains": "  tuesday "})
    html = page.content.decode()
    assert list(page.context["cl"].result_list) == [mine]
    assert re.search(
        r'<label for="filter-group-name-icontains"[^>]*>Name of the group contains</label>', html
    )
    assert '<input type="search" id="filter-group-name-icontains"' in html
    assert 'name="group__name__icontains" value="tuesday"' in html
    assert '<input type="hidden" name="status__exact" value="active">' in html
    assert "Evening group" not in html  # no link for each group
    assert set(client.get(url).context["cl"].result_list) == {mine, other}


@pytest.mark.parametrize("typed", ["<script>alert(1)</script>", "x" * 5000, "nul\x00byte", "%_\\'"])
def test_the_group_filter_answers_any_text_without_an_error(client, typed):
    group = GroupFactory()
    ParticipantFactory(group=group)
    client.force_login(HubStaffFactory(hub=group.course.cohort.hub))
    for model in ("participant", "activity", "attendance"):
        name = "participant__group__name__icontains" if model == "attendance" else "group__name__icontains"
        app = "programmes" if model == "participant" else "engagement"
        page = client.get(reverse(f"admin:{app}_{model}_changelist"), {name: typed})
        assert page.status_code == 200
        assert "<script>alert(1)</script>" not in page.content.decode()


def test_the_spread_counted_in_the_database_is_the_same_as_counting_each_tally():
    group = GroupFactory(name="Group A", capacity=50)
    other = GroupFactory(course=group.course, name="Group B", capacity=50)
    percents = [0, 9.99, 10, 45, 89.99, 90, 99.99, 100, None, 55.5]
    for percent in percents:
        tally(ParticipantFactory(group=group), percent)
    tally(ParticipantFactory(group=other), 30)
    tally(ParticipantFactory(course=group.course, group=None), 70)

    spread = dict(course_engagement(course=group.course)["groups"])
    assert spread["Group A"] == distribution([None if p is None else Decimal(str(p)) for p in percents])
    assert spread["Group B"] == distribution([Decimal(30)])
    assert spread["No group"] == distribution([Decimal(70)])


def test_the_at_risk_list_comes_a_page_at_a_time(client):
    group = GroupFactory(capacity=200)
    for i in range(120):
        tally(ParticipantFactory(group=group, user__email=f"p{i:03d}@school.example"), i % 80)
    tally(ParticipantFactory(group=group), 95)
    client.force_login(HubStaffFactory(hub=group.course.cohort.hub))
    url = reverse("admin:programmes_course_engagement", args=[group.course_id])

    first = client.get(url)
    html = first.content.decode()
    assert len(first.context["at_risk"]) == 50 and first.context["at_risk_page"].paginator.count == 120
    assert [t.percent for t in first.context["at_risk"]] == sorted(
        t.percent for t in first.context["at_risk"]
    )
    assert "At risk (120)" in html and "121 participants tallied" in html
    assert '<nav class="govuk-pagination" aria-label="Pages of participants at risk">' in html
    assert 'aria-label="Page 1" aria-current="page"' in html and 'rel="next"' in html
    last = client.get(url, {"page": 3})
    assert len(last.context["at_risk"]) == 20 and 'rel="prev"' in last.content.decode()
    everyone = {t.pk for n in (1, 2, 3) for t in client.get(url, {"page": n}).context["at_risk"]}
    assert len(everyone) == 120
    for typed in ("abc", "-1", "99999", "1e9", ""):
        assert client.get(url, {"page": typed}).status_code == 200


def test_a_facilitator_pages_through_their_groups_at_risk_only(client):
    mine = GroupFactory(capacity=100)
    theirs = GroupFactory(course=mine.course, capacity=100)
    for _ in range(3):
        tally(ParticipantFactory(group=mine), 20)
        tally(ParticipantFactory(group=theirs), 20)
    fran = HubStaffFactory(hub=mine.course.cohort.hub, hub__role=HubMembership.Role.FACILITATOR)
    mine.facilitators.add(fran)
    client.force_login(fran)
    page = client.get(reverse("admin:programmes_course_engagement", args=[mine.course_id]))
    assert {t.participant.group for t in page.context["at_risk"]} == {mine}
    assert [name for name, *_ in page.context["charts"]] == [mine.name]
    assert page.context["tallied"] == 3


def test_the_funding_report_counted_in_the_database_matches_reading_each_decision():
    """The report's SQL against the rule it replaced: each decision read in turn."""
    from collections import Counter

    from django.utils import timezone

    from funding.models import FundingDecision, FundingReview, FundingRound
    from funding.selectors import funding_report

    group, other = GroupFactory(), GroupFactory()
    funding_round = FundingRound.objects.get(code="2025")
    now = timezone.now()
    kinds = [
        # funded, reason, override, override reason, TSF, review status (None: no review)
        (True, "eligible", None, "", 200, None),
        (True, "eligible", None, "", 0, "needs_review"),
        (False, "not_in_england", None, "", 0, None),
        (False, "not_in_england", True, "Agreed", 800, None),
        (True, "eligible", False, "Not agreed", 200, "decision_made"),
        (False, "previously_funded", None, "", 0, "decision_made"),
        (False, "previously_funded", None, "", 0, None),
    ]
    for i, (funded, reason, override, why, tsf, review) in enumerate(kinds * 3):
        decision = FundingDecision.objects.create(
            user=UserFactory(),
            course=(group if i % 2 else other).course,
            funding_round=funding_round,
            facts={},
            funded=funded,
            reason=reason,
            override_funded=override,
            override_reason=why,
            targeted_support_funding_gbp=tsf,
            subject_to_review=review is not None,
            assessed_at=now,
        )
        if review:
            FundingReview.objects.create(decision=decision, status=review, opened_at=now)

    expected = {}
    for d in FundingDecision.objects.select_related("course"):
        row = expected.setdefault(d.course_id, {"funded": 0, "review": 0, "tsf": 0, "not": Counter()})
        review = FundingReview.objects.filter(decision=d).first()
        if review and review.status != FundingReview.Status.DECISION_MADE:
            row["review"] += 1
        elif d.effective_funded:
            row["funded"] += 1
            row["tsf"] += d.effective_targeted_support_gbp
        else:
            row["not"][d.effective_reason] += 1
    codes = {(c.programme.code, c.cohort.identifier): c.pk for c in (group.course, other.course)}
    report = funding_report(FundingDecision.objects.all())
    assert len(report) == 2
    for row in report:
        want = expected[codes[(row.course, row.cohort)]]
        assert (row.funded, row.under_review, row.targeted_support_gbp) == (
            want["funded"],
            want["review"],
            want["tsf"],
        )
        assert row.not_funded_by_reason == want["not"]


def test_a_group_name_is_text_in_its_chart_and_the_awaiting_list(client):
    group = GroupFactory(name='<img src=x onerror="alert(1)">', capacity=10)
    tally(ParticipantFactory(group=group), 50)
    client.force_login(HubStaffFactory(hub=group.course.cohort.hub))
    html = client.get(reverse("admin:programmes_course_engagement", args=[group.course_id])).content.decode()
    assert "<img src=x" not in html
    assert (
        'aria-label="Number of participants of &lt;img src=x onerror=&quot;alert(1)&quot;&gt; in each' in html
    )


def test_the_awaiting_list_shows_each_group_still_without_a_register_with_titles_as_text(client):
    from django.utils import timezone

    from engagement.models import Register

    group = GroupFactory(name="Tuesday", capacity=10)
    other = GroupFactory(name="Thursday", course=group.course, capacity=10)
    waiting = ActivityFactory(group=group, title='<img src=x onerror="alert(2)">')
    registered = ActivityFactory(group=other, title="Registered seminar")
    course_wide = ActivityFactory(group=None, course=group.course, title="Course-wide seminar")
    for activity, its_group in ((registered, other), (course_wide, other)):
        Register.objects.create(activity=activity, group=its_group, taken_at=timezone.now())
    client.force_login(HubStaffFactory(hub=group.course.cohort.hub))
    page = client.get(reverse("admin:programmes_course_engagement", args=[group.course_id]))
    html = page.content.decode()
    assert [(a.pk, names) for a, names in page.context["awaiting"]] == [
        (waiting.pk, "Tuesday"),
        (course_wide.pk, "Tuesday"),
    ]
    assert "<img src=x" not in html and "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in html
    assert "Registered seminar" not in html
    assert reverse("admin:engagement_activity_register", args=[waiting.pk]) in html
    assert reverse("admin:programmes_group_grid", args=[other.pk]) in html


def test_changelists_keep_their_own_pagination_and_count_without_the_full_total(client):
    group = GroupFactory(capacity=200)
    for _ in range(101):
        ParticipantFactory(group=group)
    client.force_login(HubStaffFactory(hub=group.course.cohort.hub))
    html = client.get(reverse("admin:programmes_participant_changelist")).content.decode()
    assert '<p class="paginator">' in html and "101 participants" in html
    assert "govuk-pagination" not in html
    searched = client.get(reverse("admin:programmes_participant_changelist"), {"q": "@"}).content.decode()
    assert "101 results" in searched and "Show all" in searched and " total" not in searched  # no full count


def test_a_hubs_marks_are_counted_up_to_a_cap_and_the_list_says_more_than(client, monkeypatch):
    from programmes.admin_paging import CappedCountPaginator

    monkeypatch.setattr(CappedCountPaginator, "cap", 60)
    group = GroupFactory(capacity=200)
    activity = ActivityFactory(group=group)
    for participant in [ParticipantFactory(group=group) for _ in range(61)]:
        participant.attendances.create(activity=activity, status="attended")
    client.force_login(HubStaffFactory(hub=group.course.cohort.hub))
    url = reverse("admin:engagement_attendance_changelist")
    html = client.get(url).content.decode()
    assert "More than 60 attendance marks: filter or search to narrow the list" in html
    assert "More than 60 results" in html and "60 results" not in html.replace("More than 60 results", "")
    assert client.get(url, {"p": 2}).status_code == 200  # the pages up to the cap
    narrowed = client.get(
        url, {"q": ParticipantFactory._meta.model.objects.first().user.email}
    ).content.decode()
    assert "1 attendance mark" in narrowed and "More than" not in narrowed


def test_applications_are_listed_newest_submitted_first_drafts_last_the_waiting_list_in_order(client):
    from datetime import timedelta

    from applications.models import Application
    from tests.factories import ApplicationFactory

    group = GroupFactory()
    course = group.course

    def application(status, days_ago, position=None):
        submitted = None if days_ago is None else NOW - timedelta(days=days_ago)
        return ApplicationFactory(
            course=course, status=status, submitted_at=submitted, waitlist_position=position
        )

    draft = application(Application.Status.DRAFT, None)
    old = application(Application.Status.ENDORSED, 30)
    new = application(Application.Status.ENDORSED, 1)
    second = application(Application.Status.WAITLISTED, 20, position=2)
    first = application(Application.Status.WAITLISTED, 10, position=1)
    client.force_login(HubStaffFactory(hub=course.cohort.hub))
    url = reverse("admin:applications_application_changelist")
    assert list(client.get(url).context["cl"].result_list) == [new, first, second, old, draft]
    waiting = client.get(url, {"status__exact": "waitlisted"}).context["cl"].result_list
    assert list(waiting) == [first, second]


def test_the_awaiting_records_and_the_groups_come_a_page_at_a_time_each_keeping_the_others_place(client):
    course = GroupFactory(name="Group 00", capacity=5).course
    groups = [GroupFactory(course=course, name=f"Group {i:02d}", capacity=5) for i in range(1, 23)]
    for i, group in enumerate(groups):
        tally(ParticipantFactory(group=group), 40 + i)
        for n in range(3):  # due, no register: 66 activities awaiting their record
            ActivityFactory(group=group, title=f"{group.name} seminar {n}")
    client.force_login(HubStaffFactory(hub=course.cohort.hub))
    url = reverse("admin:programmes_course_engagement", args=[course.pk])

    first = client.get(url)
    html = first.content.decode()
    assert len(first.context["awaiting"]) == 50 and first.context["awaiting_page"].paginator.count == 66
    assert "Awaiting record (66)" in html and "Engagement in each group (23)" in html
    # Group 00 has no tally yet: said in words, no chart.
    assert html.count('class="engagement-chart"') == 20 and html.count('<svg role="img"') == 19
    assert '<nav class="govuk-pagination" aria-label="Pages of activities awaiting record">' in html
    assert '<nav class="govuk-pagination" aria-label="Pages of groups">' in html

    # The second page of each list, and every other list keeps its own page in the links.
    later = client.get(url, {"page": 1, "awaiting_page": 2, "groups_page": 2})
    html = later.content.decode()
    assert len(later.context["awaiting"]) == 16
    assert [name for name, *_ in later.context["charts"]] == ["Group 20", "Group 21", "Group 22"]
    assert reverse("admin:programmes_group_grid", args=[groups[-1].pk]) in html
    assert "?page=1&amp;groups_page=2&amp;awaiting_page=1#awaiting-heading" in html
    assert "?page=1&amp;awaiting_page=2&amp;groups_page=1#groups-heading" in html
    every = {a.pk for n in (1, 2) for a, _ in client.get(url, {"awaiting_page": n}).context["awaiting"]}
    assert len(every) == 66
    for typed in ("abc", "-1", "99999", "<b>"):
        assert client.get(url, {"awaiting_page": typed, "groups_page": typed}).status_code == 200
