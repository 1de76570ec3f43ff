"""The Manage page of an assessment window (where it is now, the steps in order, every entry and
script in words, constant queries) and a participant reading back what they submitted."""

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounts.models import User
from assessment.models import Entry, MarkingAssignment, Submission
from assessment.services import (
    entry_for,
    mark,
    markers_assign,
    moderation_sample,
    results_release,
    shown_file_name,
    submission_create,
    window_create,
)
from engagement.models import EngagementTally
from programmes.models import Participant
from tests.factories import CourseFactory, GroupFactory, HubStaffFactory, ParticipantFactory
from tests.test_assessment import docx, words

pytestmark = pytest.mark.django_db
OPENING = datetime(2026, 3, 24, 9, tzinfo=UTC)
DURING = datetime(2026, 3, 26, 9, tzinfo=UTC)
AFTER = datetime(2026, 4, 2, 9, tzinfo=UTC)
# Session, user, two-factor check, the staff scope, permissions (2), the window, may it be
# changed, its hub's staff, entries, their marking and their submissions.
QUERY_BUDGET = 15  # 12 for the page, 3 for its access log entry (the hub it is recorded against)


def engaged(participant, percent):
    EngagementTally.objects.update_or_create(
        participant=participant,
        defaults={
            "percent": Decimal(percent),
            "done_weight": 0,
            "due_weight": 1,
            "on_track": percent >= 90,
            "computed_at": OPENING,
        },
    )
    return participant


@pytest.fixture
def window():
    course = CourseFactory()
    GroupFactory(course=course, capacity=500)
    return window_create(course=course, opens_on=date(2026, 3, 24), case_study_text="A case.")


def named(window, name, percent):
    group = window.course.groups.first()
    return engaged(ParticipantFactory(group=group, user__full_name=name), percent)


def manage(client, window, at):
    with time_machine.travel(at, tick=False):
        return client.get(reverse("admin:assessment_window_manage", args=[window.pk]))


def step_states(page: str) -> list[tuple[str, str]]:
    return re.findall(
        r'<li class="npq-step[^"]*" id="step-(\w+)".*?<strong class="npq-tag[^"]*">([^<]+)</strong>',
        page,
        re.S,
    )


def row_of(page: str, name: str) -> str:
    return re.search(rf"<tr>\s*<th scope=\"row\"><a [^>]*>{name}</a></th>(.*?)</tr>", page, re.S).group(1)


def test_the_steps_in_order_say_what_each_does_and_where_the_window_is(client, window):
    hub = window.course.cohort.hub
    sam, mia, mo = (
        HubStaffFactory(hub=hub, full_name=n) for n in ("Sam Staff", "Mia Marker", "Mo Moderator")
    )
    ada = named(window, "Ada Able", 95)
    named(window, "Ben Behind", 50)
    client.force_login(sam)

    page = manage(client, window, datetime(2026, 3, 20, 9, tzinfo=UTC)).content.decode()
    assert "Not open yet: the window opens on Tuesday 24 March 2026." in page
    assert step_states(page) == [
        ("open", "Now"),
        ("assign", "Not yet"),
        ("moderate", "Not yet"),
        ("release", "Not yet"),
    ]
    titles = re.findall(r"<h3>(\d\. [^<]+)</h3>", page)
    assert titles == [
        "1. Open the window: make the entries",
        "2. Give scripts to markers",
        "3. Moderate",
        "4. Release the results",
    ]
    assert "90% or more gives access" in page and "Nobody marks a script twice" in page
    assert "every fail and a share of the passes" in page and "gets their result together" in page
    assert "No entries yet" in page

    with time_machine.travel(OPENING, tick=False):
        client.post(reverse("admin:assessment_window_manage", args=[window.pk]), {"action": "open"})
        submission_create(entry=Entry.objects.get(participant=ada), text=words(20))
    page = manage(client, window, DURING).content.decode()
    assert "Open: participants with access can submit until 11:59pm on Tuesday 31 March 2026" in page
    assert step_states(page)[:2] == [("open", "Done"), ("assign", "Now")]
    assert re.search(r'id="counts">2 entries, 1 with access, 1 submitted\.', page)
    assert "Yes: engagement 95%" in row_of(page, "Ada Able")
    assert re.search(r"Submitted at \d+(:\d\d)?(am|pm) on 24 Mar 2026 \(20 words\)", row_of(page, "Ada Able"))
    assert "Not given to a marker yet" in row_of(page, "Ada Able")
    assert "No: engagement 50%" in row_of(page, "Ben Behind")

    with time_machine.travel(DURING, tick=False):
        markers_assign(window=window, markers=[mia])
    page = manage(client, window, AFTER).content.decode()
    assert page.count("Closed on Tuesday 31 March 2026. Next: give scripts to markers.") == 1
    assert "1 script given out, 0 marked." in page
    assert "First marking: with Mia Marker, not marked yet" in row_of(page, "Ada Able")

    mark(assignment=MarkingAssignment.objects.get(), by=mia, result="fail", feedback="Too thin")
    page = manage(client, window, AFTER).content.decode()
    assert step_states(page)[1:3] == [("assign", "Done"), ("moderate", "Now")]
    assert "First marking: fail, by Mia Marker" in row_of(page, "Ada Able")
    assert "Fail (not released yet)" in row_of(page, "Ada Able")

    moderation_sample(window=window, moderator=mo)
    mark(assignment=MarkingAssignment.objects.get(role="moderation"), by=mo, result="fail", feedback="Agreed")
    page = manage(client, window, AFTER).content.decode()
    assert step_states(page)[2:] == [("moderate", "Done"), ("release", "Now")]
    assert "1 script sent for moderation, 1 moderated." in page

    with time_machine.travel(AFTER, tick=False):
        results_release(window=window, by=sam)
    page = manage(client, window, AFTER).content.decode()
    assert "Finished: results were released at 10am on 2 April 2026." in page
    assert [state for _, state in step_states(page)] == ["Done"] * 4
    assert 'name="action"' not in page  # nothing left to do
    assert "<td>Failed</td>" in row_of(page, "Ada Able")


def test_counts_use_plurals(client, window):
    sam = HubStaffFactory(hub=window.course.cohort.hub)
    named(window, "Ada Able", 95)
    client.force_login(sam)
    with time_machine.travel(OPENING, tick=False):
        client.post(reverse("admin:assessment_window_manage", args=[window.pk]), {"action": "open"})
    page = manage(client, window, DURING).content.decode()
    assert re.search(r'id="counts">1 entry, 1 with access, 0 submitted\.', page)
    assert "1 entry made: 1 with access, 0 submitted." in page
    assert "0 scripts given out" in page and "1 scripts" not in page
    assert "Entrys" not in page and "entrys" not in page


def test_a_participant_reads_back_their_typed_response(client, window):
    ada = named(window, "Ada Able", 95)
    entry = entry_for(participant=ada, now=OPENING)
    submission_create(entry=entry, text="Routines first.\n\nThen <b>relationships</b>.", now=DURING)
    client.force_login(ada.user)
    with time_machine.travel(DURING, tick=False):
        page = client.get(reverse("participant_assessment", args=[ada.pk])).content.decode()
    assert "What you submitted" in page and "Read your response (6 words)" in page
    assert "<p>Routines first.</p>" in page and "Then &lt;b&gt;relationships&lt;/b&gt;." in page
    # Still there once the window has closed.
    with time_machine.travel(AFTER, tick=False):
        assert (
            "Routines first." in client.get(reverse("participant_assessment", args=[ada.pk])).content.decode()
        )


def test_a_participant_sees_their_file_by_its_name_and_downloads_it(client, window, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    ada, ben = named(window, "Ada Able", 95), named(window, "Ben Able", 95)
    entry = entry_for(participant=ada, now=OPENING)
    entry_for(participant=ben, now=OPENING)
    upload = SimpleUploadedFile("My response – final.docx", docx(words(50)))
    submission = submission_create(entry=entry, upload=upload, now=DURING)
    assert submission.original_name == "My response – final.docx"
    assert not submission.file.name.endswith("final.docx")  # stored under a name of our making
    client.force_login(ada.user)
    with time_machine.travel(DURING, tick=False):
        page = client.get(reverse("participant_assessment", args=[ada.pk])).content.decode()
        download = reverse("participant_response_file", args=[ada.pk])
        assert "You uploaded <strong" in page and "My response – final.docx</strong>" in page
        assert f'href="{download}"' in page
        response = client.get(download)
        assert response.status_code == 200
        assert response["Content-Disposition"].endswith('filename="your-response.docx"')
        assert b"".join(response.streaming_content).startswith(b"PK")
        # Nobody else's: another participant, and a participant with nothing uploaded.
        client.force_login(ben.user)
        assert client.get(download).status_code == 404
        assert client.get(reverse("participant_response_file", args=[ben.pk])).status_code == 404


def test_an_uploaded_name_is_shown_without_paths_or_control_characters():
    assert shown_file_name("C:\\Users\\ada\\essay.docx") == "essay.docx"
    assert shown_file_name("../../etc/passwd\x00.pdf") == "passwd.pdf"
    assert shown_file_name("evil\u202ecod.pdf") == "evilcod.pdf"
    long = shown_file_name("a" * 400 + ".docx")
    assert len(long) == 255 and long.endswith(".docx")
    assert shown_file_name(None) == ""


# --- Queries do not grow with entries ---------------------------------------------------------------


def grow(window, start: int, stop: int, marker: User) -> None:
    course = window.course
    users = User.objects.bulk_create(
        User(email=f"e{i}@school.example", full_name=f"E {i}") for i in range(start, stop)
    )
    participants = Participant.objects.bulk_create(
        Participant(user=u, course=course, trn=f"{4000000 + i}")
        for u, i in zip(users, range(start, stop), strict=True)
    )
    entries = Entry.objects.bulk_create(
        Entry(window=window, participant=p, engagement_at_opening=Decimal(95), access="engagement")
        for p in participants
    )
    Submission.objects.bulk_create(
        Submission(entry=e, text=words(5), word_count=5, submitted_at=DURING) for e in entries
    )
    MarkingAssignment.objects.bulk_create(
        MarkingAssignment(
            entry=e, role="first", marker=marker, result="pass", feedback="Good", marked_at=AFTER
        )
        for e in entries
    )


def test_the_manage_page_queries_do_not_grow_with_entries(client, window, django_assert_max_num_queries):
    sam = HubStaffFactory(hub=window.course.cohort.hub)
    marker = HubStaffFactory(hub=window.course.cohort.hub)
    client.force_login(sam)
    grow(window, 0, 10, marker)
    manage(client, window, AFTER)  # warm the session
    with django_assert_max_num_queries(QUERY_BUDGET) as small:
        assert manage(client, window, AFTER).status_code == 200
    grow(window, 10, 100, marker)
    with django_assert_max_num_queries(QUERY_BUDGET) as large:
        page = manage(client, window, AFTER).content.decode()
    assert "100 entries, 100 with access, 100 submitted." in page
    assert len(large) == len(small)
