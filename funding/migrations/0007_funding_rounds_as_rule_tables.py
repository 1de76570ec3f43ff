"""Rounds 2025-26 and 2026, and every round's rules as a table (funding/rounds.py).

Keys of the old shape (course sets and list kinds as separate fields) are now rows of the round's
table; a stored edit in that shape cannot be read any more, so it is dropped (the round's
defaults apply) rather than failing every decision of its cohorts."""

from django.db import migrations, models

NEW_ROUNDS = [
    ("2025-26", "2025-26 (targeted scholarships, August 2025 to May 2026)"),
    ("2026", "2026 (cohorts from June 2026)"),
]
OLD_KEYS = {
    "open_courses",
    "targeted_courses",
    "targeted_list_kinds",
    "funded_employment_types",
    "review_employment_types",
    "review_courses",
    "lead_mentor_courses",
    "early_years_courses",
    "early_years_list_kinds",
    "childminder_list_kinds",
}
HELP = (
    "What this round changes from the portal's defaults for its code: its table of rules "
    '("rules"), eligible establishment type codes and the other settings shown below. '
    "Empty: the defaults."
)


def forwards(apps, schema_editor):
    FundingRound = apps.get_model("funding", "FundingRound")
    for code, name in NEW_ROUNDS:
        FundingRound.objects.get_or_create(code=code, defaults={"name": name})
    for funding_round in FundingRound.objects.all():
        data = funding_round.rules_data or {}
        if set(data) & OLD_KEYS:
            funding_round.rules_data = {k: v for k, v in data.items() if k not in OLD_KEYS}
            funding_round.save(update_fields=["rules_data"])


class Migration(migrations.Migration):
    dependencies = [("funding", "0006_list_kind_la_nursery")]

    operations = [
        migrations.AlterField(
            model_name="fundinground",
            name="rules_data",
            field=models.JSONField(blank=True, default=dict, help_text=HELP, verbose_name="rules"),
        ),
        migrations.AlterField(
            model_name="historicalfundinground",
            name="rules_data",
            field=models.JSONField(blank=True, default=dict, help_text=HELP, verbose_name="rules"),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
