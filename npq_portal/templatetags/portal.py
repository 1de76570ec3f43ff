"""Template helpers available in every template (registered as a builtin in settings)."""

import re

from django import template
from django.template.defaultfilters import stringfilter

from common.dates import govuk_datetime, govuk_time

register = template.Library()


@register.filter
@stringfilter
def squash(value: str) -> str:
    """Collapse runs of whitespace, e.g. in a page title assembled from indented blocks."""
    return re.sub(r"\s+", " ", value).strip()


register.filter("govuk_time", govuk_time)
register.filter("govuk_datetime", govuk_datetime)
