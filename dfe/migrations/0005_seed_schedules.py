"""DfE's milestone dates for the 2024 (autumn) and 2025 (spring) cohorts, as data (decisions.md, 39).
The start days are the first day of the term the schedule names; staff correct them in the admin."""

from datetime import date

from django.db import migrations

SCHEDULES = {
    ("2024", "npq-specialist-autumn"): (
        date(2024, 9, 1),
        {"started": date(2024, 11, 25), "retained-1": date(2025, 5, 26), "completed": date(2026, 2, 21)},
    ),
    ("2024", "npq-leadership-autumn"): (
        date(2024, 9, 1),
        {
            "started": date(2024, 11, 25),
            "retained-1": date(2025, 5, 26),
            "retained-2": date(2026, 1, 24),
            "completed": date(2026, 7, 25),
        },
    ),
    ("2025", "npq-specialist-spring"): (
        date(2025, 1, 1),
        {"started": date(2025, 5, 30), "retained-1": date(2025, 12, 19), "completed": date(2026, 8, 21)},
    ),
    ("2025", "npq-leadership-spring"): (
        date(2025, 1, 1),
        {
            "started": date(2025, 5, 30),
            "retained-1": date(2025, 12, 19),
            "retained-2": date(2026, 7, 24),
            "completed": date(2027, 2, 25),
        },
    ),
}


def seed(apps, schema_editor):
    Schedule = apps.get_model("dfe", "Schedule")
    Milestone = apps.get_model("dfe", "Milestone")
    for (cohort, identifier), (starts_on, milestones) in SCHEDULES.items():
        schedule, _ = Schedule.objects.get_or_create(
            dfe_cohort=cohort, identifier=identifier, defaults={"starts_on": starts_on}
        )
        for kind, when in milestones.items():
            Milestone.objects.get_or_create(
                schedule=schedule, declaration_type=kind, defaults={"milestone_date": when}
            )


class Migration(migrations.Migration):
    dependencies = [("dfe", "0004_declarations")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
