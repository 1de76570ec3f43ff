"""The engagement pages in a real browser at 1280 px and 375 px: a participant part-way through
the first weeks of a course (one register taken, sessions awaiting their record), the check-in
form refusing a date before the course, and the staff pages reached from the admin home.
Nothing may make the page scroll sideways on a phone; screenshots in test-artifacts/."""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from engagement.models import Activity, Attendance
from engagement.services import register_save
from engagement.tally import tally_course
from tests.browser import browser_page, screenshot, sign_in
from tests.factories import (
    LONDON,
    PASSWORD,
    ActivityFactory,
    CohortFactory,
    CourseFactory,
    GroupFactory,
    HubStaffFactory,
    ParticipantFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 812}}


@pytest.fixture(autouse=True)
def _allow_sync_db_in_playwright_thread(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def course():
    """Started 33 days ago: twenty weekly seminars, the first register taken (Ben absent), an online
    unit a week and a half late (missed unless done) and one due three days ago (awaiting)."""
    today = timezone.localdate()
    start = today - timedelta(days=33)
    cohort = CohortFactory(
        start_date=start,
        registration_opens_on=start - timedelta(days=90),
        registration_closes_on=start - timedelta(days=7),
    )
    group = GroupFactory(course=CourseFactory(cohort=cohort), name="Group A: Tuesday evenings")
    alice = ParticipantFactory(
        group=group,
        user=UserFactory(
            email="alice.adeyemi-longsurname@northfield-academy.example",
            full_name="Alice Adeyemi-Longsurname",
        ),
        mentor_name="Mo Mentor",
        mentor_email="mo@school.example",
    )
    ben = ParticipantFactory(group=group, user__full_name="Ben Brown", mentor_email="mo@school.example")
    others = [ParticipantFactory(group=group) for _ in range(3)]
    seminars = [
        ActivityFactory(
            group=group,
            code=f"seminar-{i + 1}",
            title=f"Module {i // 4 + 1} seminar {i % 4 + 1}: leading curriculum change",
            starts_at=datetime.combine(start + timedelta(weeks=i, days=1), time(16), tzinfo=LONDON),
        )
        for i in range(20)
    ]
    units = [
        ActivityFactory(
            group=None,
            course=group.course,
            code=code,
            title=f"Online study {code[-1]}: evidence on curriculum",
            kind=Activity.Kind.ONLINE_STUDY_UNIT,
            starts_at=None,
            ends_at=None,
            due_on=today - timedelta(days=days),
        )
        for days, code in ((10, "unit-1"), (3, "unit-2"))
    ]
    staff = HubStaffFactory(hub=cohort.hub, full_name="Sam Staff", email="sam@hub.example")
    marks = {p.pk: "attended" for p in [alice, *others]}
    register_save(activity=seminars[0], marks={**marks, ben.pk: "absent"}, by=staff)
    for participant in [alice, *others]:  # everyone but Ben completed the first unit
        Attendance.objects.create(participant=participant, activity=units[0], status="completed")
    tally_course(course_id=group.course_id)
    return group, alice, ben, staff


def fits(page, name: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.viewport_size["width"]
    screenshot(page, f"engagement-{name}-{viewport}")
    assert width <= viewport, f"{name} ({page.url}) is {width} px wide at {viewport} px"


def test_the_engagement_pages_fit_desktop_and_phone(live_server, chromium_path, course):
    group, alice, ben, staff = course
    base = live_server.url
    with browser_page(chromium_path) as page:
        sign_in(page, base, ben.user.email, PASSWORD)
        for size, viewport in SIZES.items():
            page.set_viewport_size(viewport)
            page.goto(f"{base}/enrolments/{ben.pk}/")
            assert "You can still reach it" in page.locator("#at-risk").inner_text()
            assert page.locator(".govuk-tag", has_text="Awaiting record").count() == 5  # 4 seminars, unit 2
            assert page.locator(".govuk-tag", has_text="Missed").count() == 2  # seminar 1, unit 1
            fits(page, f"participant-{size}")
            page.goto(f"{base}/enrolments/{ben.pk}/check-ins/new")
            page.get_by_label("When was the check-in?").fill("1 1 2020")
            page.get_by_role("button", name="Continue").click()
            assert "when your course started" in page.locator(".govuk-error-summary").inner_text()
            assert "when your course started" in page.locator("#id_held_on-error").inner_text()
            fits(page, f"checkin-error-{size}")

        sign_in(page, base, staff.email, PASSWORD, user=staff)
        course_id = group.course_id
        for size, viewport in SIZES.items():
            page.set_viewport_size(viewport)
            page.goto(f"{base}/admin/")
            panel = page.locator("#participants-at-risk")
            assert "1 of 5" in panel.inner_text()
            fits(page, f"admin-home-{size}")
            panel.get_by_role("link").first.click()
            assert page.url.endswith(f"/admin/programmes/course/{course_id}/engagement/")
            assert "Ben Brown" in page.locator("#at-risk").inner_text()
            assert page.locator("#awaiting tbody tr").count() == 5
            fits(page, f"course-engagement-{size}")
            page.goto(f"{base}/admin/programmes/course/")
            page.locator("#result_list").get_by_role(
                "link", name="Engagement"
            ).first.click()  # the row's link
            assert page.url.endswith(f"/{course_id}/engagement/")
            page.goto(f"{base}/admin/programmes/course/{course_id}/change/")
            page.get_by_role("link", name="Engagement and participants at risk").click()
            assert page.url.endswith(f"/{course_id}/engagement/")
            page.goto(f"{base}/admin/programmes/group/{group.pk}/grid/")
            assert (
                "Module 1 seminar 1: leading curriculum change" in page.locator("#grid thead").text_content()
            )
            fits(page, f"grid-{size}")
            seminar = Activity.objects.get(code="seminar-2")
            page.goto(f"{base}/admin/engagement/activity/{seminar.pk}/register/")
            page.get_by_role("button", name="Mark everyone attended").click()
            assert page.locator('input[value="attended"]:checked').count() == 5
            fits(page, f"register-{size}")
        page.get_by_label("Absent").nth(1).check()
        page.get_by_role("button", name="Save register").click()
        assert "Register taken:" in page.locator("#register-taken").inner_text()
