"""Each tally says its participant's course, so a course's tallies are read by an index.

Added empty, filled from the participants in one statement, then required.
"""

import django.db.models.deletion
from django.db import migrations, models


def courses_fill(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "UPDATE programmes_engagementtally SET course_id ="
            " (SELECT p.course_id FROM programmes_participant p WHERE p.id = participant_id)"
        )
        if schema_editor.connection.vendor == "postgresql":
            # The new foreign key's checks now, so that the column can be made required below
            # in the same transaction ("pending trigger events" otherwise).
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):
    dependencies = [
        ("engagement", "0001_initial"),
        ("programmes", "0009_engagement_moved_out"),
    ]

    operations = [
        migrations.AddField(
            model_name="engagementtally",
            name="course",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="programmes.course",
            ),
        ),
        migrations.RunPython(courses_fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="engagementtally",
            name="course",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="programmes.course",
            ),
        ),
        migrations.AddIndex(
            model_name="engagementtally",
            index=models.Index(fields=["course", "on_track", "percent"], name="tally_course_at_risk"),
        ),
    ]
