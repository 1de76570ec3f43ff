"""Staff pages for applications and funding read in words: the list's columns, the application's
page (role, work setting, mentor, funding facts), no Save on read-only pages, decisions only
where the state machine allows them, a policy decision needs its reason, the funding report."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from applications.models import Application, Transition
from applications.services import application_accept, application_submit
from funding.eligibility import ALL_REASONS
from funding.models import FundingDecision, Institution
from funding.wording import REASON_LABELS, facts_in_words, reason_label
from tests.factories import ApplicationFactory, CourseFactory, GroupFactory, HubStaffFactory, UserFactory

pytestmark = pytest.mark.django_db
S = Application.Status
NOT_ON_LIST = "ineligible_establishment_not_on_list"


@pytest.fixture
def course():
    # A state school that is not on the 2025 round's lists: NPQLT is not funded there.
    Institution.objects.create(
        urn=137001, name="Northfield Academy", establishment_type_code=28, status="Open", la_code="886"
    )
    course = CourseFactory()
    GroupFactory(course=course, capacity=10)
    return course


def submitted(course, **answers) -> Application:
    application = ApplicationFactory(course=course)
    if answers:
        application.answers = {**application.answers, **answers}
        application.save()
    return application_submit(application=application, by=application.user)


def with_status(application: Application, status: str) -> Application:
    position = 1 if status == S.WAITLISTED else None
    Application.objects.filter(pk=application.pk).update(status=status, waitlist_position=position)
    return Application.objects.get(pk=application.pk)


def main_content(response) -> str:
    """The page's own content (not admin's scripts and styles)."""
    html = response.content.decode()
    return html[html.index('id="content"') :]


def visible_text(html: str) -> str:
    """What a person reads: the text between the tags (attributes hold admin's own JSON)."""
    return re.sub(r"<[^>]*>", " ", html)


# --- Words, not codes -----------------------------------------------------------------------------


def test_every_reason_code_has_staff_words_and_codes_read_as_words():
    assert set(ALL_REASONS) <= set(REASON_LABELS)
    assert not [label for label in REASON_LABELS.values() if "_" in label]
    assert reason_label(NOT_ON_LIST) == "Not funded: workplace not on DfE's eligibility lists"
    assert reason_label("a_code_from_later") == "A code from later"


def test_facts_read_as_labelled_rows_never_json():
    rows = dict(
        facts_in_words(
            {
                "round": "2025",
                "course": "NPQLT",
                "in_england": True,
                "work_setting": "another_setting",
                "employment_type": "local_authority_supply_teacher",
                "eligibility_lists": ["pp50_school", "rise"],
                "previous_funded_places": [{"course": "NPQSL", "status": "withdrawn"}],
                "something_new": {"nested": [1, 2]},
            }
        )
    )
    assert rows["Works in England"] == "Yes"
    assert rows["How they are employed"] == "Supply teacher employed by a local authority"
    assert rows["On DfE's eligibility lists"] == "Top 50% of schools by pupil premium; RISE schools"
    assert rows["Funded places before"] == "NPQSL (withdrew)"
    assert rows["Something new"] == "nested: 1; 2"
    assert not [v for v in rows.values() if "{" in v or "[" in v]


def test_the_application_page_reads_in_words_with_role_setting_mentor_and_facts(client, course):
    application = submitted(course)
    assert application.funding_decision.reason == NOT_ON_LIST
    client.force_login(HubStaffFactory(hub=course.cohort.hub))
    response = client.get(reverse("admin:applications_application_change", args=[application.pk]))
    page = main_content(response)
    assert "Not funded: workplace not on DfE&#x27;s eligibility lists" in page
    assert NOT_ON_LIST not in page and "ineligible" not in page
    assert "{" not in visible_text(page) and "&quot;" not in visible_text(page)  # no JSON
    facts = page[page.index('id="funding-facts"') :]
    assert re.search(r"Where they work</dt>\s*<dd[^>]*>A school</dd>", facts)
    assert re.search(r"Works in England</dt>\s*<dd[^>]*>Yes</dd>", facts)
    assert "Head of maths" in page  # role
    assert "A school" in page  # work setting
    assert "Mo Mentor (mo@school.example)" in page  # mentor
    assert "Waiting for endorsement" in page and "awaiting_endorsement" not in page


def test_the_funding_decision_page_shows_its_facts_as_a_summary_list(client, course):
    application = submitted(course)
    client.force_login(HubStaffFactory(hub=course.cohort.hub))
    response = client.get(
        reverse("admin:funding_fundingdecision_change", args=[application.funding_decision_id])
    )
    page = main_content(response)
    assert '<dl class="npq-summary-list" id="decision-facts">' in page
    assert "Establishment type (GIAS code)" in page and "Pupils on roll" not in page
    assert NOT_ON_LIST not in page and "{" not in visible_text(page)
    changelist = main_content(client.get(reverse("admin:funding_fundingdecision_changelist")))
    assert NOT_ON_LIST not in changelist.replace(f"reason={NOT_ON_LIST}", "")
    assert "Not funded: workplace not on DfE&#x27;s eligibility lists" in changelist


def test_decisions_are_filtered_by_reasons_in_words(client, course):
    application = submitted(course)
    client.force_login(HubStaffFactory(hub=course.cohort.hub))
    url = reverse("admin:funding_fundingdecision_changelist")
    page = main_content(client.get(url))
    filters = page[page.index('id="changelist-filter"') :]
    assert "Not funded: workplace not on DfE&#x27;s eligibility lists" in filters
    assert "Not funded: works outside England" not in filters  # only the reasons there are
    listed = client.get(url, {"reason": NOT_ON_LIST}).context["cl"].result_list
    assert list(listed) == [application.funding_decision]
    assert list(client.get(url, {"reason": "funded"}).context["cl"].result_list) == []


def test_the_funding_report_names_reasons_in_words(client, course):
    submitted(course)
    client.force_login(HubStaffFactory(hub=course.cohort.hub))
    page = main_content(client.get(reverse("admin:funding_fundingdecision_report")))
    assert '<th scope="col">Not funded: workplace not on DfE&#x27;s eligibility lists</th>' in page
    assert NOT_ON_LIST not in page and "_" not in re.sub(r'(id|class|href|name)="[^"]*"', "", page)


def test_csv_export_keeps_the_reason_codes(client, course):
    application = submitted(course)
    client.force_login(HubStaffFactory(hub=course.cohort.hub))
    response = client.post(
        reverse("admin:applications_application_changelist"),
        {"action": "export_as_csv", "_selected_action": [application.pk]},
    )
    assert NOT_ON_LIST in response.content.decode()


# --- The applications list ------------------------------------------------------------------------


def test_the_applications_list_has_the_columns_staff_scan_in_words(client, course):
    application = submitted(course)
    waiting = with_status(submitted(course), S.WAITLISTED)
    Application.objects.filter(pk=waiting.pk).update(waitlist_position=2)  # hand-made: the 2nd
    client.force_login(HubStaffFactory(hub=course.cohort.hub))
    response = client.get(reverse("admin:applications_application_changelist"))
    assert list(response.context["cl"].list_display) == [
        "action_checkbox",
        "applicant",
        "course",
        "status_words",
        "funding",
        "submitted",
    ]
    page = main_content(response)
    assert "Alice Adeyemi" in page and f"NPQ-{application.pk:06d}" in page and str(application.course) in page
    assert "On the waiting list (2nd)" in page and "Waiting for endorsement" in page
    assert "Not funded: workplace not on DfE&#x27;s eligibility lists" in page
    assert NOT_ON_LIST not in page
    # Still found by email and TRN, though neither is a column.
    search = client.get(reverse("admin:applications_application_changelist"), {"q": application.user.email})
    assert application in search.context["cl"].result_list


# --- Decisions only where they can succeed, no Save on read-only pages ---------------------------


def object_tools(response) -> str:
    html = response.content.decode()
    match = re.search(r'<ul class="object-tools">(.*?)</ul>', html, re.S)
    return match.group(1) if match else ""


@pytest.mark.parametrize(
    ("status", "accept", "reject"),
    [
        (S.DRAFT, False, False),
        (S.AWAITING_ENDORSEMENT, False, False),
        (S.ENDORSEMENT_DECLINED, False, False),
        (S.REJECTED, False, False),
        (S.ACCEPTED, False, False),
        (S.ENDORSED, True, True),
        (S.WAITLISTED, True, True),
    ],
)
def test_accept_and_reject_are_offered_only_where_the_state_machine_allows(
    client, course, status, accept, reject
):
    application = submitted(course)
    if status == S.ACCEPTED:
        # An accepted application has a participant: accept it through the service.
        application = application_accept(application=with_status(application, S.ENDORSED), by=UserFactory())
    else:
        application = with_status(application, status)
    client.force_login(HubStaffFactory(hub=course.cohort.hub))
    tools = object_tools(client.get(reverse("admin:applications_application_change", args=[application.pk])))
    accept_url = reverse("admin:applications_application_accept", args=[application.pk])
    reject_url = reverse("admin:applications_application_reject", args=[application.pk])
    assert (accept_url in tools) is accept
    assert (reject_url in tools) is reject
    page = client.get(accept_url).content.decode()
    assert ('value="Accept"' in page) is accept
    if not accept:
        assert "Only an endorsed application, or one on the waiting list, can be accepted. This one" in page
        client.post(accept_url, {})
        assert Application.objects.get(pk=application.pk).status == application.status


def test_the_application_page_is_read_only_with_no_save_row(client, course):
    application = with_status(submitted(course), S.ENDORSED)
    client.force_login(HubStaffFactory(hub=course.cohort.hub))
    page = client.get(
        reverse("admin:applications_application_change", args=[application.pk])
    ).content.decode()
    assert 'name="_save"' not in page and 'name="_continue"' not in page
    assert 'class="submit-row"' not in page
    assert 'value="Accept"' not in page  # the decision is its own page


# --- Deciding by policy needs a reason -------------------------------------------------------------


@pytest.mark.parametrize("choice", ["True", "False"])
def test_deciding_by_policy_without_a_reason_says_so_next_to_the_reason(client, course, choice):
    application = submitted(course)
    decision = application.funding_decision
    client.force_login(HubStaffFactory(hub=course.cohort.hub))
    url = reverse("admin:funding_fundingdecision_change", args=[decision.pk])
    response = client.post(url, {"override_funded": choice, "override_reason": "   "})
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.errors == {"override_reason": ["Enter the reason for deciding by policy"]}
    page = response.content.decode()
    assert "Constraint" not in page and "funding_override_has_reason" not in page
    errors = re.search(r'<ul class="errorlist"[^>]*id="id_override_reason_error"', page) or re.search(
        r'<ul class="errorlist"[^>]*>\s*<li>Enter the reason for deciding by policy</li>', page
    )
    assert errors
    decision.refresh_from_db()
    assert decision.override_funded is None
    # With a reason it is recorded.
    client.post(url, {"override_funded": choice, "override_reason": "Agreed with the DfE contact"})
    decision.refresh_from_db()
    assert decision.override_funded is (choice == "True")
    assert FundingDecision.objects.get(pk=decision.pk).override_reason == "Agreed with the DfE contact"


# --- Queries do not grow with rows ------------------------------------------------------------------

QUERY_BUDGET = 12  # session, user, two-factor, permissions, filters' choices, counts, the rows
PAGE_QUERY_BUDGET = 28  # the page: sections, decision, endorsements, history, scope, funded place, access log


def grow(course, start: int, stop: int) -> None:
    """Endorsed applications ``start``..``stop`` with their funding decisions (bulk, for speed)."""
    users = User.objects.bulk_create(
        User(email=f"a{i}@school.example", full_name=f"A {i}") for i in range(start, stop)
    )
    decisions = FundingDecision.objects.bulk_create(
        FundingDecision(
            user=u,
            course=course,
            funding_round=course.cohort.funding_round,
            facts={"round": "2025", "course": "NPQLT", "in_england": True},
            funded=i % 2 == 0,
            reason="funded" if i % 2 == 0 else NOT_ON_LIST,
            assessed_at=timezone.now(),
        )
        for u, i in zip(users, range(start, stop), strict=True)
    )
    Application.objects.bulk_create(
        Application(
            user=d.user,
            cohort=course.cohort,
            course=course,
            status=S.ENDORSED,
            started_at=timezone.now(),
            submitted_at=timezone.now(),
            full_name=d.user.full_name,
            funding_decision=d,
        )
        for d in decisions
    )


@pytest.mark.parametrize(
    "url",
    [
        "admin:applications_application_changelist",
        "admin:funding_fundingdecision_changelist",
        "admin:funding_fundingdecision_report",
    ],
)
def test_staff_lists_cost_the_same_queries_with_10_or_100_rows(
    client, course, url, django_assert_max_num_queries
):
    client.force_login(HubStaffFactory(hub=course.cohort.hub))
    grow(course, 0, 10)
    client.get(reverse(url))  # warm the session
    with django_assert_max_num_queries(QUERY_BUDGET) as small:
        assert client.get(reverse(url)).status_code == 200
    grow(course, 10, 100)
    with django_assert_max_num_queries(QUERY_BUDGET) as large:
        response = client.get(reverse(url))
    if "cl" in response.context:
        assert response.context["cl"].result_count == 100
    else:
        (row, _), *_ = response.context["rows"]
        assert (row.funded, row.not_funded) == (50, 50)
    assert len(large) == len(small), [q["sql"] for q in large.captured_queries]


def test_the_application_page_costs_the_same_queries_however_long_its_history(
    client, course, django_assert_max_num_queries
):
    application = with_status(submitted(course), S.ENDORSED)
    sam = HubStaffFactory(hub=course.cohort.hub)
    client.force_login(sam)
    url = reverse("admin:applications_application_change", args=[application.pk])
    client.get(url)
    with django_assert_max_num_queries(PAGE_QUERY_BUDGET) as short:
        client.get(url)
    Transition.objects.bulk_create(
        Transition(
            application=application, from_status=S.ENDORSED, to_status=S.ENDORSED, by=sam, at=timezone.now()
        )
        for _ in range(100)
    )
    with django_assert_max_num_queries(PAGE_QUERY_BUDGET) as long:
        page = client.get(url).content.decode()
    assert page.count('<td class="field-to_status">') >= 100
    assert len(long) == len(short), [q["sql"] for q in long.captured_queries]
