"""Plain-text emails are not HTML: names like O'Brien arrive as written, never as &#x27;."""

from pathlib import Path

import pytest
from django.template.loader import render_to_string

from tests.conftest import ROOT


def test_every_plain_text_email_template_switches_html_escaping_off():
    templates = sorted(Path(ROOT, "templates", "emails").rglob("*.txt"))
    assert templates
    for path in templates:
        assert path.read_text().startswith("{% autoescape off %}"), path


@pytest.mark.django_db
def test_a_facilitators_at_risk_email_names_people_as_written():
    class Person:
        def get_full_name(self) -> str:
            return "Siobhán O'Brien & Co <3"

    class Tally:
        participant = type("P", (), {"user": Person()})()
        percent = 80

    group = type(
        "G",
        (),
        {"name": "Group A", "course": type("C", (), {"programme": type("Pr", (), {"name": "NPQLT"})()})()},
    )()
    text = render_to_string(
        "emails/reminders/engagement_at_risk_group.txt", {"group": group, "tallies": [Tally()]}
    )
    assert "Siobhán O'Brien & Co <3: 80%" in text
