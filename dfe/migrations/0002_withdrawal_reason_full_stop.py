"""DfE's withdrawal reason ``quality-of-programme-structure-not-suitable.`` ends with a full stop:
participants withdrawn with the portal's earlier spelling take DfE's."""

from django.db import migrations

OLD = "quality-of-programme-structure-not-suitable"


def forwards(apps, schema_editor):
    Participant = apps.get_model("programmes", "Participant")
    Participant.objects.filter(status="withdrawn", status_reason=OLD).update(status_reason=OLD + ".")


def backwards(apps, schema_editor):
    Participant = apps.get_model("programmes", "Participant")
    Participant.objects.filter(status="withdrawn", status_reason=OLD + ".").update(status_reason=OLD)


class Migration(migrations.Migration):
    dependencies = [
        ("dfe", "0001_dfe_link"),
        ("programmes", "0008_participant_trn_index"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
