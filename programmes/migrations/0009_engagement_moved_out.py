"""The engagement models moved to the engagement app (decisions.md, 41).

Their tables stay as they are (engagement's models keep the names programmes_*), so no row moves:
this removes them from programmes' migration state, and moves their content types (and with them
every permission granted on them, and the admin's log entries) to the engagement app.
"""

from django.db import migrations

MOVED = (
    "activity",
    "attendance",
    "calendarfeed",
    "engagementtally",
    "historicalattendance",
    "mentorcheckin",
    "register",
)


def content_types_move(apps, schema_editor, *, source="programmes", target="engagement"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if not ContentType.objects.filter(app_label=target, model=model).exists():
            ContentType.objects.filter(app_label=source, model=model).update(app_label=target)


def content_types_back(apps, schema_editor):
    content_types_move(apps, schema_editor, source="engagement", target="programmes")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("programmes", "0008_participant_trn_index"),
        ("engagement", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.RemoveField(
                    model_name="historicalattendance",
                    name="activity",
                ),
                migrations.RemoveField(
                    model_name="register",
                    name="activity",
                ),
                migrations.RemoveField(
                    model_name="attendance",
                    name="activity",
                ),
                migrations.RemoveField(
                    model_name="attendance",
                    name="participant",
                ),
                migrations.RemoveField(
                    model_name="attendance",
                    name="recorded_by",
                ),
                migrations.RemoveField(
                    model_name="calendarfeed",
                    name="user",
                ),
                migrations.RemoveField(
                    model_name="engagementtally",
                    name="participant",
                ),
                migrations.RemoveField(
                    model_name="historicalattendance",
                    name="history_user",
                ),
                migrations.RemoveField(
                    model_name="historicalattendance",
                    name="participant",
                ),
                migrations.RemoveField(
                    model_name="historicalattendance",
                    name="recorded_by",
                ),
                migrations.RemoveField(
                    model_name="mentorcheckin",
                    name="participant",
                ),
                migrations.RemoveField(
                    model_name="register",
                    name="group",
                ),
                migrations.RemoveField(
                    model_name="register",
                    name="taken_by",
                ),
                migrations.DeleteModel(
                    name="Activity",
                ),
                migrations.DeleteModel(
                    name="Attendance",
                ),
                migrations.DeleteModel(
                    name="CalendarFeed",
                ),
                migrations.DeleteModel(
                    name="EngagementTally",
                ),
                migrations.DeleteModel(
                    name="HistoricalAttendance",
                ),
                migrations.DeleteModel(
                    name="MentorCheckin",
                ),
                migrations.DeleteModel(
                    name="Register",
                ),
            ],
        ),
        migrations.RunPython(content_types_move, content_types_back),
    ]
