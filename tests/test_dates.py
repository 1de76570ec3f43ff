from datetime import date

import pytest

from common.dates import parse_typed_date


@pytest.mark.parametrize("text", ["27 3 1985", "27/03/1985", " 27-3-1985 ", "27.03.1985"])
def test_day_month_year_as_people_type_it(text):
    assert parse_typed_date(text) == date(1985, 3, 27)


def test_month_and_year():
    assert parse_typed_date("9 2023", with_day=False) == date(2023, 9, 1)


@pytest.mark.parametrize("text", ["", "27 3", "31 2 2025", "27 March 1985", "1 2 3 4"])
def test_not_a_date(text):
    with pytest.raises(ValueError):
        parse_typed_date(text)
