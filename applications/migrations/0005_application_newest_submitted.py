"""An index in the order of the staff list of applications (newest submitted first, drafts
last), so that a page is read in index order instead of sorting every application of the hub.

PostgreSQL only, and outside the models' state: SQLite (the local default) cannot index with
NULLS LAST, and would fail to rebuild the table on a later change if the model declared it.
"""

from django.db import migrations

CREATE = (
    "CREATE INDEX IF NOT EXISTS application_newest_submitted ON applications_application "
    "(submitted_at DESC NULLS LAST, id DESC)"
)
DROP = "DROP INDEX IF EXISTS application_newest_submitted"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("applications", "0004_funded_place"),
    ]

    operations = [migrations.RunPython(create, drop)]
