"""The retention schedule's defaults (docs/privacy.md); staff change them in admin."""

from django.db import migrations

DEFAULTS = {
    "unfinished_applications": (30, "days"),
    "closed_applications": (1, "years"),
    "endorsements": (1, "years"),
    "assessment_scripts": (12, "months"),
    "attendance": (7, "years"),
    "participants": (7, "years"),
    "notifications": (2, "years"),
    "uploaded_files": (30, "days"),
    "import_files": (90, "days"),
    "subject_access_exports": (7, "days"),
    "access_log": (2, "years"),
    "sessions": (0, "days"),
    "job_runs": (90, "days"),
}


def seed(apps, schema_editor):
    RetentionRule = apps.get_model("privacy", "RetentionRule")
    for kind, (period, unit) in DEFAULTS.items():
        RetentionRule.objects.get_or_create(kind=kind, hub=None, defaults={"period": period, "unit": unit})


def unseed(apps, schema_editor):
    apps.get_model("privacy", "RetentionRule").objects.filter(hub=None, kind__in=DEFAULTS).delete()


class Migration(migrations.Migration):
    dependencies = [("privacy", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
