from django import template

from applications.selectors import next_step_text as _next_step_text
from funding.eligibility import EXPLANATIONS

register = template.Library()


@register.filter
def next_step_text(application) -> str:
    return _next_step_text(application)


@register.filter
def funding_text(decision) -> str:
    text = EXPLANATIONS[decision.effective_reason].format(course=decision.course.programme.name)
    if decision.effective_targeted_support_gbp:
        text += f" Your school can also get £{decision.effective_targeted_support_gbp} of targeted support funding."
    return text
