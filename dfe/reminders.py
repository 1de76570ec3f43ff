"""Reminders about declarations, through the notifications app (each exactly once, by its key):
a milestone 14 and 3 days away with participants ready but undeclared, to the hub's
administrators; a declaration DfE refused, to whoever made it (else the hub's administrators).
Registered as the scheduled job ``declaration_reminders`` (notifications/jobs.py)."""

from __future__ import annotations

from datetime import date, timedelta

from notifications.jobs import register_job
from notifications.services import notify_once, site_url
from programmes.models import Cohort, HubMembership

from .declarations import TYPE_WORDS, cohort_standing
from .models import Declaration, Milestone

REMIND_DAYS = (14, 3)


def _hub_admins(hub_id: int):
    return [
        m.user
        for m in HubMembership.objects.filter(
            hub_id=hub_id, role=HubMembership.Role.HUB_ADMIN
        ).select_related("user")
        if m.user.is_active
    ]


@register_job("declaration_reminders")
def declaration_reminders(today: date) -> int:
    """Daily. How many reminders were recorded (a rerun records none)."""
    sent = 0
    for days in REMIND_DAYS:
        day = today + timedelta(days=days)
        for milestone in Milestone.objects.filter(milestone_date=day).select_related("schedule"):
            schedule = milestone.schedule
            cohorts = (
                Cohort.objects.filter(
                    courses__participants__application__dfe__cohort=schedule.dfe_cohort,
                    courses__participants__application__dfe__schedule_identifier=schedule.identifier,
                )
                .select_related("hub")
                .distinct()
            )
            for cohort in cohorts:
                ready = [
                    row
                    for row in cohort_standing(
                        course_ids=list(cohort.courses.values_list("pk", flat=True)),
                        lead_provider_id=cohort.hub.lead_provider_id,
                    )
                    if row.declaration_type == milestone.declaration_type and row.state == "ready"
                ]
                if not ready:
                    continue
                for user in _hub_admins(cohort.hub_id):
                    sent += notify_once(
                        kind="declarations_due",
                        recipient=user.email,
                        user=user,
                        about=milestone,
                        occurrence=f"cohort-{cohort.pk}-day-{days}",
                        title=f"{len(ready)} {TYPE_WORDS[milestone.declaration_type].lower()} declaration(s) "
                        f"ready to send before {day:%-d %B %Y}",
                        template="declarations_due",
                        context={"cohort": cohort, "milestone": milestone, "rows": ready, "days": days},
                        link=site_url("admin:dfe_declaration_cohort", cohort.pk),
                    )
    refused = Declaration.objects.filter(state=Declaration.State.REFUSED).select_related(
        "created_by", "dfe_application__application__cohort", "dfe_application__application__participant"
    )
    for declaration in refused:
        application = declaration.dfe_application.application
        if application is None or application.participant_id is None:
            continue
        people = (
            [declaration.created_by]
            if declaration.created_by is not None and declaration.created_by.is_active
            else _hub_admins(application.cohort.hub_id)
        )
        for user in people:
            sent += notify_once(
                kind="declaration_refused",
                recipient=user.email,
                user=user,
                about=declaration,
                occurrence="refused",
                title=f"DfE refused the {declaration.get_declaration_type_display().lower()} declaration "
                f"for {declaration.dfe_application.full_name}",
                template="declaration_refused",
                context={"declaration": declaration},
                link=site_url("admin:dfe_declaration_participant", application.participant_id),
            )
    return sent
