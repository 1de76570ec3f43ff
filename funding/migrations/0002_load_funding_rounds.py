from django.db import migrations

ROUNDS = [
    ("2022-23", "2022-23 (universal funding)"),
    ("2025", "2025 (targeted scholarships, from spring 2025)"),
]


def load(apps, schema_editor):
    FundingRound = apps.get_model("funding", "FundingRound")
    for code, name in ROUNDS:
        FundingRound.objects.update_or_create(code=code, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("funding", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
