"""Summative assessment: marking, moderation, a lead for disagreements, releasing results and
outcomes (the window, access and submissions are in test_assessment.py)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from assessment.models import Entry, MarkingAssignment, Outcome
from assessment.services import (
    AssessmentError,
    entry_for,
    final_result,
    mark,
    markers_assign,
    moderation_sample,
    results_release,
    submission_create,
)
from tests import test_assessment
from tests.factories import HubMembershipFactory, ParticipantFactory, UserFactory
from tests.test_assessment import with_engagement, words

pytestmark = pytest.mark.django_db
UTC = ZoneInfo("UTC")
window = test_assessment.window  # the fixture, shared with test_assessment.py


@pytest.fixture
def marked_window(window):
    group = window.course.groups.first()
    hub = window.course.cohort.hub
    marker_a, marker_b, moderator, lead = (HubMembershipFactory(hub=hub).user for _ in range(4))
    participants = [
        with_engagement(ParticipantFactory(group=group, trn=f"{3000000 + i}"), 100) for i in range(6)
    ]
    for p in participants[:5]:
        entry = entry_for(participant=p, now=datetime(2026, 3, 24, 9, tzinfo=UTC))
        submission_create(entry=entry, text=words(100), now=datetime(2026, 3, 25, 9, tzinfo=UTC))
    entry_for(participant=participants[5], now=datetime(2026, 3, 24, 9, tzinfo=UTC))  # never submits
    assert markers_assign(window=window, markers=[marker_a, marker_b]) == 5
    return window, participants, marker_a, marker_b, moderator, lead


def test_a_marker_sees_and_marks_only_their_scripts(client, marked_window):
    window, participants, marker_a, marker_b, *_ = marked_window
    mine = MarkingAssignment.objects.filter(marker=marker_a).first()
    theirs = MarkingAssignment.objects.filter(marker=marker_b).first()
    client.force_login(marker_a)
    listed = client.get(reverse("marking_list")).context["assignments"]
    assert set(listed) == set(MarkingAssignment.objects.filter(marker=marker_a))
    assert client.get(reverse("marking_script", args=[theirs.pk])).status_code == 404
    assert (
        client.post(
            reverse("marking_script", args=[theirs.pk]), {"result": "pass", "feedback": "x"}
        ).status_code
        == 404
    )
    with pytest.raises(AssessmentError):
        mark(assignment=theirs, by=marker_a, result="pass", feedback="Good")
    assert "word word" in client.get(reverse("marking_script", args=[mine.pk])).content.decode()
    client.post(reverse("marking_script", args=[mine.pk]), {"result": "pass", "feedback": "Clear analysis"})
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.result, theirs.result) == ("pass", "")


def test_moderation_release_and_outcomes(client, marked_window):
    window, participants, marker_a, marker_b, moderator, lead = marked_window
    firsts = list(MarkingAssignment.objects.filter(role="first").order_by("entry_id"))
    with pytest.raises(AssessmentError, match="every script has its first mark"):
        moderation_sample(window=window, moderator=moderator)
    results = ["pass", "pass", "pass", "fail", "pass"]
    for assignment, result in zip(firsts, results, strict=True):
        mark(assignment=assignment, by=assignment.marker, result=result, feedback=f"First marker: {result}")
    assert (
        moderation_sample(window=window, moderator=moderator, share_of_passes=0.25) == 2
    )  # the fail + 1 of 4 passes
    moderations = list(MarkingAssignment.objects.filter(role="moderation").order_by("entry_id"))
    assert firsts[3].entry in [m.entry for m in moderations]
    with (
        time_machine.travel(datetime(2026, 4, 2, 9, tzinfo=UTC), tick=False),
        pytest.raises(AssessmentError, match="no final mark yet"),
    ):
        results_release(window=window, by=lead)
    # The moderator disagrees about the fail: a lead decides.
    for moderation in moderations:
        agree = moderation.entry == firsts[0].entry
        mark(
            assignment=moderation,
            by=moderator,
            result="pass",
            feedback="Moderated: pass" if agree else "Moderator: pass",
        )
    failed_entry = firsts[3].entry
    assert final_result(failed_entry) is None
    lead_assignment = MarkingAssignment.objects.get(role="lead")
    assert lead_assignment.entry == failed_entry and lead_assignment.marker not in (
        firsts[3].marker,
        moderator,
    )
    mark(
        assignment=lead_assignment,
        by=lead_assignment.marker,
        result="fail",
        feedback="Lead: the analysis does not meet the standard",
    )
    with (
        time_machine.travel(datetime(2026, 3, 31, 20, tzinfo=UTC), tick=False),
        pytest.raises(AssessmentError, match="after the window closes"),
    ):
        results_release(window=window, by=lead)
    with time_machine.travel(datetime(2026, 4, 2, 9, tzinfo=UTC), tick=False):
        assert results_release(window=window, by=lead) == 6
        with pytest.raises(AssessmentError, match="already been released"):
            results_release(window=window, by=lead)
        outcomes = {o.entry.participant_id: o for o in Outcome.objects.all()}
        assert outcomes[participants[3].pk].result == "failed"
        assert outcomes[participants[5].pk].result == "failed"  # no response
        assert [outcomes[p.pk].result for p in participants[:3]] == ["passed"] * 3
        client.force_login(participants[0].user)
        html = client.get(reverse("participant_assessment", args=[participants[0].pk])).content.decode()
        assert (
            "Passed" in html
            and "teacher reference number (TRN), 3000000" in html
            and "Teaching Regulation Agency" in html
        )
        client.force_login(participants[3].user)
        html = client.get(reverse("participant_assessment", args=[participants[3].pk])).content.decode()
        assert "Failed" in html and "Lead: the analysis does not meet the standard" in html


def test_a_failed_assessment_uses_the_funded_place(marked_window):
    from funding.models import FundingDecision, FundingRound
    from funding.services import previous_funded_places

    window, participants, *_ = marked_window
    failing = participants[5]
    FundingDecision.objects.create(
        user=failing.user,
        course=window.course,
        funding_round=FundingRound.objects.get(code="2025"),
        facts={},
        funded=True,
        reason="funded",
        assessed_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    for assignment in MarkingAssignment.objects.filter(role="first"):
        mark(assignment=assignment, by=assignment.marker, result="pass", feedback="ok")
    with time_machine.travel(datetime(2026, 4, 2, 9, tzinfo=UTC), tick=False):
        results_release(window=window, by=UserFactory())
    assert previous_funded_places(user=failing.user) == [{"course": "NPQLT", "status": "failed"}]


def test_staff_run_a_window_from_its_manage_page(client, window):
    from tests.factories import HubStaffFactory

    group = window.course.groups.first()
    hub = window.course.cohort.hub
    sam = HubStaffFactory(hub=hub)
    marker, moderator = HubStaffFactory(hub=hub), HubStaffFactory(hub=hub)
    people = [with_engagement(ParticipantFactory(group=group), 95) for _ in range(3)]
    url = reverse("admin:assessment_window_manage", args=[window.pk])
    with time_machine.travel(datetime(2026, 3, 24, 9, tzinfo=UTC), tick=False):
        client.force_login(sam)
        client.post(url, {"action": "open"})
        assert Entry.objects.filter(window=window).count() == 3
        for participant in people:
            submission_create(entry=Entry.objects.get(participant=participant), text=words(20))
        client.post(url, {"action": "assign", "markers": [marker.pk]})
    assert MarkingAssignment.objects.filter(marker=marker, role="first").count() == 3
    for assignment in MarkingAssignment.objects.all():
        mark(assignment=assignment, by=marker, result="pass", feedback="Well argued")
    with time_machine.travel(datetime(2026, 4, 2, 9, tzinfo=UTC), tick=False):
        client.force_login(sam)
        client.post(url, {"action": "moderate", "moderator": moderator.pk, "share": "0.34"})
        assert (
            MarkingAssignment.objects.filter(role="moderation", marker=moderator).count() == 2
        )  # ceil(3 x 0.34)
        response = client.post(url, {"action": "release"}, follow=True)
        assert "no final mark yet" in response.content.decode()  # moderation still open
        for assignment in MarkingAssignment.objects.filter(role="moderation"):
            mark(assignment=assignment, by=moderator, result="pass", feedback="Agreed")
        response = client.post(url, {"action": "release"}, follow=True)
        assert "3 results released." in response.content.decode()
    assert Outcome.objects.filter(result="passed").count() == 3
