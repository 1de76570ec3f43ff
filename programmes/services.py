"""Writes to the delivery model. Status changes happen here and nowhere else."""

import calendar
from datetime import date

from django.db import transaction

from .models import Cohort, Course, Programme


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the end of a shorter month."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def delivery_end_for(*, programme: Programme, delivery_start: date) -> date:
    return add_months(delivery_start, programme.delivery_months)


@transaction.atomic
def course_create(
    *, cohort: Cohort, programme: Programme, funded_places: int, delivery_start: date | None = None
) -> Course:
    """Run ``programme`` in ``cohort``; delivery runs for the programme's length from the start."""
    start = delivery_start or cohort.start_date
    return Course.objects.create(
        cohort=cohort,
        programme=programme,
        delivery_start=start,
        delivery_end=delivery_end_for(programme=programme, delivery_start=start),
        funded_places=funded_places,
    )
