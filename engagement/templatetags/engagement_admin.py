"""The admin home's "Participants at risk" panel: the staff member's courses with at-risk counts."""

from django import template

from engagement.selectors import courses_at_risk

register = template.Library()


@register.inclusion_tag("admin/engagement/participants_at_risk.html", takes_context=True)
def participants_at_risk(context) -> dict:
    request = context["request"]
    user = request.user
    if not user.has_perm("programmes.view_course"):
        return {"courses": None}
    return {"courses": list(courses_at_risk(user=user, request=request)), "show_hub": user.is_superuser}
