"""The programme catalogue of docs/domain.md, loaded by a data migration."""

import pytest

from programmes.models import Programme

pytestmark = pytest.mark.django_db

# code: (kind, delivery months, assessment window months, mentor check-ins)
DOMAIN_TABLE = {
    "NPQLT": ("specialist", 12, 3, 3),
    "NPQLBC": ("specialist", 12, 3, 3),
    "NPQLTD": ("specialist", 12, 3, 3),
    "NPQLL": ("specialist", 12, 3, 3),
    "NPQLPM": ("specialist", 12, 3, 3),
    "NPQSL": ("leadership", 18, 3, 4),
    "NPQH": ("leadership", 18, 3, 4),
    "NPQEL": ("leadership", 18, 3, 4),
    "NPQEYL": ("leadership", 18, 3, 4),
    "NPQSENCO": ("leadership", 18, 4, 4),
    "EHCO": ("support_offer", 18, 0, 0),
}


def test_all_eleven_programmes_are_loaded_with_their_rules():
    rows = {
        p.code: (p.kind, p.delivery_months, p.assessment_window_months, p.mentor_checkins)
        for p in Programme.objects.all()
    }
    assert rows == DOMAIN_TABLE


def test_programme_specific_rules():
    assert Programme.objects.get(code="NPQH").assessment_extension_months == 6
    assert set(Programme.objects.filter(endorsed_by_line_manager=True).values_list("code", flat=True)) == {
        "NPQH",
        "NPQEL",
    }
    assert not Programme.objects.get(code="EHCO").has_assessment
    assert set(Programme.objects.values_list("max_response_words", flat=True)) == {1500}


def test_home_page_lists_the_catalogue(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        html = client.get("/").content.decode()
    assert "Early Headship Coaching Offer (EHCO)" in html
    assert "Leading Primary Mathematics (NPQLPM)" in html
