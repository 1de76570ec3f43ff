"""Accounts of people who never enrolled: erased 2 years after they last signed in."""

from django.db import migrations, models


def seed(apps, schema_editor):
    apps.get_model("privacy", "RetentionRule").objects.get_or_create(
        kind="inactive_accounts", hub=None, defaults={"period": 2, "unit": "years"}
    )


def unseed(apps, schema_editor):
    apps.get_model("privacy", "RetentionRule").objects.filter(kind="inactive_accounts").delete()


class Migration(migrations.Migration):
    dependencies = [("privacy", "0002_retention_defaults")]

    operations = [
        migrations.AlterField(
            model_name="retentionrule",
            name="kind",
            field=models.CharField(
                choices=[
                    ("unfinished_applications", "Unfinished and expired applications"),
                    ("closed_applications", "Rejected and withdrawn applications"),
                    ("endorsements", "Endorsement requests (the endorser's name, address and reason)"),
                    ("assessment_scripts", "Assessment responses and their files"),
                    ("attendance", "Engagement marks"),
                    ("participants", "Everything about a participant"),
                    ("inactive_accounts", "Accounts of people who never enrolled (applicants, endorsers)"),
                    ("notifications", "Emails sent (notifications)"),
                    ("uploaded_files", "Uploaded files no record refers to any more"),
                    ("import_files", "Import files (GIAS, eligibility lists)"),
                    ("subject_access_exports", "Copies of personal data (subject access exports)"),
                    ("access_log", "Access log entries"),
                    ("sessions", "Sign-in sessions"),
                    ("job_runs", "Records of scheduled job runs"),
                ],
                max_length=40,
            ),
        ),
        migrations.RunPython(seed, unseed),
    ]
